import Contracts

/// The OpenAPI paths of the project commands (`POST /api/v1/projects/{id}/<action>`), one shape for all.
enum ProjectActionDocs {
    static let summaries: [ProjectAction: String] = [
        .start: "Begins a draft project's first stage",
        .pause: "Sends nothing new; results that arrive are kept",
        .resume: "Goes on after a pause (`budget` raises the budget)",
        .advance: "Moves on from a stage that waits for a person",
        .retry: "Runs a failed task (`taskID`) or every failed task of the current stage again",
        .restart: "Runs a failed project again from `stage`",
        .cancel: "Ends the project",
    ]

    static var paths: String {
        ProjectAction.allCases.map { action in
            """
              /api/v1/projects/{id}/\(action.rawValue):
                post:
                  operationId: \(action.rawValue)Project
                  summary: \(summaries[action] ?? action.rawValue)
                  parameters: [{$ref: "#/components/parameters/id"}]
                  requestBody:
                    required: false
                    content:
                      application/json:
                        schema:
                          type: object
                          additionalProperties: false
                          properties: {stage: {type: string}, taskID: {type: string}, budget: {type: number, exclusiveMinimum: 0}}
                  responses:
                    "200": {description: The project after the command, content: {application/json: {schema: {$ref: "#/components/schemas/Project"}}}}
                    "400": {$ref: "#/components/responses/Error"}
                    "401": {$ref: "#/components/responses/Error"}
                    "404": {$ref: "#/components/responses/Error"}
                    "409": {$ref: "#/components/responses/Error"}
                    "422": {$ref: "#/components/responses/Error"}
                    "503": {$ref: "#/components/responses/Error"}
            """
        }.joined(separator: "\n")
    }
}
