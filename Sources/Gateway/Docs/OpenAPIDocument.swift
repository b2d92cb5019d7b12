/// The API as OpenAPI 3.1, served at `/api/v1/openapi.yaml`; a test checks it names every route of the router and
/// no other.
enum OpenAPIDocument {
    static let yaml = #"""
        openapi: 3.1.0
        info:
          title: aiwf API
          version: "1"
          description: |
            Projects that run AI content workflows through their stages, the approvals they wait for, the templates
            they follow, and the caller's account. Send an API key as `Authorization: Bearer aiwf_…`; a key is made
            with `POST /api/v1/keys` signed in with HTTP Basic (e-mail and password). Every refusal has the body
            `{"error": {"code", "message", "details"}}`; `details` names each wrong field by its JSON pointer.
        servers:
          - url: /
        security:
          - key: []
          - password: []
        paths:
          /api/v1/me:
            get:
              operationId: me
              summary: The caller
              responses:
                "200": {description: The caller, content: {application/json: {schema: {$ref: "#/components/schemas/User"}}}}
                "401": {$ref: "#/components/responses/Error"}
          /api/v1/keys:
            get:
              operationId: listKeys
              summary: The caller's API keys (never their secrets)
              responses:
                "200": {description: Keys, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Key"}}}}}
                "401": {$ref: "#/components/responses/Error"}
            post:
              operationId: createKey
              summary: A new API key, its secret shown in this answer only
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      additionalProperties: false
                      required: [name]
                      properties: {name: {type: string, minLength: 1, maxLength: 100}}
              responses:
                "201": {description: The key with its secret, content: {application/json: {schema: {$ref: "#/components/schemas/Key"}}}}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "422": {$ref: "#/components/responses/Error"}
          /api/v1/keys/{id}:
            delete:
              operationId: revokeKey
              summary: Revokes one of the caller's keys
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "204": {description: Revoked}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
          /api/v1/users:
            get:
              operationId: listUsers
              summary: Every user (admins only)
              responses:
                "200": {description: Users, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/User"}}}}}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
            post:
              operationId: createUser
              summary: A new user (admins only)
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      additionalProperties: false
                      required: [email, password]
                      properties:
                        email: {type: string}
                        password: {type: string, minLength: 10, maxLength: 72}
                        role: {type: string, enum: [admin, user]}
              responses:
                "201": {description: The user, content: {application/json: {schema: {$ref: "#/components/schemas/User"}}}}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "409": {$ref: "#/components/responses/Error"}
                "422": {$ref: "#/components/responses/Error"}
          /api/v1/admin/providers:
            get:
              operationId: providerStatus
              summary: Each provider's models, whether it cools down after failures, and the requests waiting in its lanes (admins only)
              responses:
                "200":
                  description: Providers
                  content:
                    application/json:
                      schema:
                        type: array
                        items:
                          type: object
                          required: [name, kind, models, cooling]
                          properties:
                            name: {type: string}
                            kind: {type: string}
                            models: {type: array, items: {type: string}}
                            cooling: {type: boolean}
                            laneDepth: {type: integer}
                            interactiveDepth: {type: integer}
                            requestsPerMinute: {type: integer}
                            tokensPerMinute: {type: integer}
                            maxConcurrency: {type: integer}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/admin/dead-letters:
            get:
              operationId: deadLetters
              summary: Messages waiting in each dead-letter queue (admins only)
              responses:
                "200":
                  description: Counts by queue
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [queues, total]
                        properties: {queues: {type: object, additionalProperties: {type: integer}}, total: {type: integer}}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
          /api/v1/admin/dead-letters/{queue}/replay:
            post:
              operationId: replayDeadLetters
              summary: Move dead letters back into the queue they died in, oldest first (admins only)
              description: >-
                Each message is republished to its queue and confirmed by the broker before it leaves the dead-letter
                queue. Fix what made them fail first (the service's log says it).
              parameters:
                - {name: queue, in: path, required: true, schema: {type: string}, example: stage.commands.dead}
                - {name: limit, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 100000, default: 1000}}
              responses:
                "200":
                  description: How many moved
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [queue, into, moved]
                        properties: {queue: {type: string}, into: {type: string}, moved: {type: integer}}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
          /api/v1/templates:
            get:
              operationId: listTemplates
              summary: The latest version of every workflow template
              responses:
                "200": {description: Templates, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/TemplateSummary"}}}}}
                "401": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
            post:
              operationId: saveTemplate
              summary: Stores a custom template (or a new version of one) from YAML
              requestBody:
                required: true
                content: {application/yaml: {schema: {type: string}}}
              responses:
                "201": {description: Stored, content: {application/json: {schema: {$ref: "#/components/schemas/TemplateSummary"}}}}
                "401": {$ref: "#/components/responses/Error"}
                "422": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/templates/validate:
            post:
              operationId: validateTemplate
              summary: Checks YAML without storing it; every problem with its line and field
              requestBody:
                required: true
                content: {application/yaml: {schema: {type: string}}}
              responses:
                "200":
                  description: The result
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [valid, issues]
                        properties:
                          valid: {type: boolean}
                          issues:
                            type: array
                            items:
                              type: object
                              required: [path, message]
                              properties: {path: {type: string}, line: {type: [integer, "null"]}, message: {type: string}}
                "401": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/templates/{code}:
            get:
              operationId: getTemplate
              summary: One template, its latest version or `version`
              parameters:
                - {name: code, in: path, required: true, schema: {type: string}}
                - {name: version, in: query, schema: {type: integer, minimum: 1}}
              responses:
                "200": {description: The template, content: {application/json: {schema: {type: object}}}}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/templates/{code}/stages/{stage}/preview:
            post:
              operationId: previewPrompt
              summary: A stage's prompt rendered for given parameters, as a model would get it
              parameters:
                - {name: code, in: path, required: true, schema: {type: string}}
                - {name: stage, in: path, required: true, schema: {type: string}}
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      additionalProperties: false
                      properties:
                        version: {type: integer, minimum: 1}
                        params: {type: object}
                        context: {type: object}
              responses:
                "200": {description: The rendered prompt, content: {application/json: {schema: {type: object}}}}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "422": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/projects:
            get:
              operationId: listProjects
              summary: "The caller's projects (for an admin everyone's, or those of `owner`), newest first"
              parameters:
                - {name: state, in: query, schema: {$ref: "#/components/schemas/ProjectState"}}
                - {name: template, in: query, schema: {type: string}}
                - {name: owner, in: query, description: admins only, schema: {type: string}}
                - {name: cursor, in: query, description: the `next` of the previous page, schema: {type: string}}
                - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 200, default: 50}}
              responses:
                "200": {description: A page, content: {application/json: {schema: {$ref: "#/components/schemas/ProjectPage"}}}}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "422": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
            post:
              operationId: createProject
              summary: A new project from a template; with `Idempotency-Key` a repeat gives the same project
              parameters:
                - {name: Idempotency-Key, in: header, schema: {type: string, minLength: 1, maxLength: 200}}
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      additionalProperties: false
                      required: [template, name]
                      properties:
                        template: {type: string}
                        version: {type: integer, minimum: 1}
                        name: {type: string, minLength: 1, maxLength: 200}
                        params: {type: object, description: checked against the template's params_schema}
                        budget: {type: number, exclusiveMinimum: 0, description: US dollars}
                        start: {type: boolean, default: false}
              responses:
                "200": {description: The project an earlier request with this key made, content: {application/json: {schema: {$ref: "#/components/schemas/Project"}}}}
                "201": {description: The project, content: {application/json: {schema: {$ref: "#/components/schemas/Project"}}}}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "409": {$ref: "#/components/responses/Error"}
                "413": {$ref: "#/components/responses/Error"}
                "422": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/projects/{id}:
            get:
              operationId: getProject
              summary: One project with its stage runs, tasks and artifacts
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200": {description: The project, content: {application/json: {schema: {$ref: "#/components/schemas/ProjectDetail"}}}}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/projects/{id}/tasks:
            get:
              operationId: getProjectTasks
              summary: Its tasks with their content, prompts, model, usage, attempts and validation errors
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200": {description: Tasks, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Task"}}}}}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/projects/{id}/stage-runs:
            get:
              operationId: getProjectStageRuns
              summary: Every run of every stage, with its decision and feedback
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200": {description: Stage runs, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/StageRun"}}}}}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/projects/{id}/artifacts:
            get:
              operationId: getProjectArtifacts
              summary: The files its stages made
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200": {description: Artifacts, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Artifact"}}}}}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/projects/{id}/artifacts/{artifact}:
            get:
              operationId: getArtifact
              summary: One artifact's description
              parameters: [{$ref: "#/components/parameters/id"}, {name: artifact, in: path, required: true, schema: {type: string}}]
              responses:
                "200": {description: The artifact, content: {application/json: {schema: {$ref: "#/components/schemas/Artifact"}}}}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/projects/{id}/artifacts/{artifact}/content:
            get:
              operationId: downloadArtifact
              summary: An artifact's bytes, with its media type, length and ETag (its SHA-256); If-None-Match and one byte Range
              parameters:
                - {$ref: "#/components/parameters/id"}
                - {name: artifact, in: path, required: true, schema: {type: string}}
                - {name: Range, in: header, schema: {type: string, example: bytes=0-1023}}
                - {name: If-None-Match, in: header, schema: {type: string}}
              responses:
                "200": {description: The bytes, content: {"*/*": {schema: {type: string, format: binary}}}}
                "206": {description: The range asked for, content: {"*/*": {schema: {type: string, format: binary}}}}
                "304": {description: Not changed since the ETag given}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "416": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/projects/{id}/survey/responses.csv:
            get:
              operationId: exportSurveyResponses
              summary: A survey project's responses as CSV (RFC 4180), one column per question
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200": {description: The responses, content: {text/csv: {schema: {type: string}}}}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/projects/{id}/survey/summary:
            get:
              operationId: getSurveySummary
              summary: "A survey project's responses added up: counts per answer, the mean of ratings, scales and numbers"
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200":
                  description: The summary
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [responses, questions]
                        properties:
                          responses: {type: integer}
                          questions:
                            type: array
                            items:
                              type: object
                              required: [question, text, type, answered]
                              properties:
                                question: {type: string}
                                text: {type: string}
                                type: {type: string}
                                answered: {type: integer}
                                counts: {type: array, items: {type: object, required: [answer, count], properties: {answer: {type: string}, count: {type: integer}}}}
                                mean: {type: number}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/projects/{id}/usage:
            get:
              operationId: getProjectUsage
              summary: Tokens and cost by stage and model
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200":
                  description: Usage
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [cost, tokensIn, tokensOut, lines]
                        properties:
                          cost: {type: number}
                          budget: {type: [number, "null"]}
                          tokensIn: {type: integer}
                          tokensOut: {type: integer}
                          lines: {type: array, items: {type: object}}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/projects/{id}/approvals:
            get:
              operationId: getProjectApprovals
              summary: Every approval of the project with its decisions, oldest first
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200": {description: Approvals, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Approval"}}}}}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/projects/{id}/events:
            get:
              operationId: streamProjectEvents
              summary: The project's event log as server-sent events, then live
              description: |
                Each entry is `id: <sequence>`, `event: <kind>` and `data: <event as JSON>`. Task text as it streams comes
                as `event: task.text` without an id (it is not kept). A comment every 15 s keeps the connection. Resume
                with `Last-Event-ID` (or `?after=`); with `?follow=false` the stream ends after what the log holds.
              parameters:
                - {$ref: "#/components/parameters/id"}
                - {name: Last-Event-ID, in: header, schema: {type: integer, minimum: 0}}
                - {name: after, in: query, schema: {type: integer, minimum: 0}}
                - {name: follow, in: query, schema: {type: boolean, default: true}}
              responses:
                "200": {description: The stream, content: {text/event-stream: {schema: {type: string}}}}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
        __ACTIONS__
          /api/v1/approvals:
            get:
              operationId: listApprovals
              summary: The approvals waiting for the caller, across projects
              responses:
                "200": {description: Approvals, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Approval"}}}}}
                "401": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/approvals/{id}:
            get:
              operationId: getApproval
              summary: One approval waiting for the caller, with the items it covers
              parameters: [{$ref: "#/components/parameters/id"}]
              responses:
                "200": {description: The approval, content: {application/json: {schema: {$ref: "#/components/schemas/Approval"}}}}
                "401": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /api/v1/approvals/{id}/decision:
            post:
              operationId: decideApproval
              summary: Approve, request changes (with feedback, per item, with edits) or reject (with a reason)
              parameters: [{$ref: "#/components/parameters/id"}]
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      additionalProperties: false
                      required: [decision, contentHash]
                      properties:
                        decision: {$ref: "#/components/schemas/Decision"}
                        contentHash: {type: string, description: the contentHash of the approval the caller saw}
                        feedback: {type: string}
                        reason: {type: string}
                        items:
                          type: array
                          items:
                            type: object
                            required: [itemID, decision]
                            properties:
                              itemID: {type: string}
                              decision: {$ref: "#/components/schemas/Decision"}
                              feedback: {type: string}
                              editedContent: {type: string}
              responses:
                "200": {description: The approval after the decision, content: {application/json: {schema: {$ref: "#/components/schemas/Approval"}}}}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "409": {$ref: "#/components/responses/Error"}
                "422": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /v1/chat/completions:
            post:
              operationId: chatCompletions
              summary: OpenAI-compatible chat completion, whole or streamed (`stream`), through ProviderGateway
              description: The request and answer of OpenAI's API (`model`, `messages`, `max_tokens`, `temperature`, `stream`, `stream_options`, `response_format`); refusals in OpenAI's error shape.
              requestBody:
                required: true
                content: {application/json: {schema: {type: object, required: [model, messages]}}}
              responses:
                "200":
                  description: A chat.completion, or with stream a text/event-stream of chat.completion.chunk ending with [DONE]
                  content: {application/json: {schema: {type: object}}, text/event-stream: {schema: {type: string}}}
                "400": {$ref: "#/components/responses/CompatError"}
                "401": {$ref: "#/components/responses/CompatError"}
                "404": {$ref: "#/components/responses/CompatError"}
                "429": {$ref: "#/components/responses/CompatError"}
                "503": {$ref: "#/components/responses/CompatError"}
          /v1/messages:
            post:
              operationId: messages
              summary: Anthropic-compatible message, whole or streamed (`stream`), through ProviderGateway
              description: The request and answer of Anthropic's Messages API (`model`, `max_tokens`, `messages`, `system`, `temperature`, `stream`); the key may come as `x-api-key`; refusals in Anthropic's error shape.
              requestBody:
                required: true
                content: {application/json: {schema: {type: object, required: [model, max_tokens, messages]}}}
              responses:
                "200":
                  description: A message, or with stream a text/event-stream of message_start … message_stop
                  content: {application/json: {schema: {type: object}}, text/event-stream: {schema: {type: string}}}
                "400": {$ref: "#/components/responses/CompatError"}
                "401": {$ref: "#/components/responses/CompatError"}
                "404": {$ref: "#/components/responses/CompatError"}
                "429": {$ref: "#/components/responses/CompatError"}
                "529": {$ref: "#/components/responses/CompatError"}
          /v1/models:
            get:
              operationId: models
              summary: The models there are, in OpenAI's shape, or Anthropic's when asked with `anthropic-version`
              responses:
                "200": {description: The models, content: {application/json: {schema: {type: object, required: [data]}}}}
                "401": {$ref: "#/components/responses/CompatError"}
                "503": {$ref: "#/components/responses/CompatError"}
        components:
          securitySchemes:
            key: {type: http, scheme: bearer, description: "an API key, aiwf_…"}
            password: {type: http, scheme: basic, description: e-mail and password}
          parameters:
            id: {name: id, in: path, required: true, schema: {type: string}}
          responses:
            Error:
              description: A refusal, saying what to fix
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            CompatError:
              description: A refusal in the error shape of the API the endpoint imitates
              content: {application/json: {schema: {type: object, required: [error]}}}
          schemas:
            Error:
              type: object
              required: [error]
              properties:
                error:
                  type: object
                  required: [code, message, details]
                  properties:
                    code: {type: string}
                    message: {type: string}
                    details:
                      type: array
                      items: {type: object, required: [pointer, message], properties: {pointer: {type: string}, message: {type: string}}}
            User:
              type: object
              required: [id, email, role]
              properties: {id: {type: string}, email: {type: string}, role: {type: string, enum: [admin, user]}}
            Key:
              type: object
              required: [id, name, prefix, createdAt]
              properties:
                id: {type: string}
                name: {type: string}
                prefix: {type: string}
                createdAt: {type: string, format: date-time}
                lastUsedAt: {type: [string, "null"], format: date-time}
                revokedAt: {type: [string, "null"], format: date-time}
                requests: {type: integer, description: generations through /v1/chat/completions and /v1/messages}
                tokensIn: {type: integer}
                tokensOut: {type: integer}
                cost: {type: number}
                key: {type: string, description: the secret; only when the key is made}
            TemplateSummary:
              type: object
              required: [code, version, name]
              properties: {code: {type: string}, version: {type: integer}, name: {type: string}, description: {type: string}, builtIn: {type: boolean}}
            ProjectState: {type: string, enum: [draft, running, approval_pending, paused, done, failed]}
            Decision: {type: string, enum: [approve, request_changes, reject]}
            Project:
              type: object
              required: [id, name, template, templateVersion, ownerID, state, progress, params, cost, createdAt, lastEvent]
              properties:
                id: {type: string}
                name: {type: string}
                template: {type: string}
                templateVersion: {type: integer}
                ownerID: {type: string}
                state: {$ref: "#/components/schemas/ProjectState"}
                reason: {type: string, enum: [error, rejected, expired, budget, cancelled, requested]}
                message: {type: string}
                stage: {type: string}
                waitingFor: {type: string}
                progress: {type: integer, minimum: 0, maximum: 100}
                params: {type: object}
                budget: {type: number}
                cost: {type: number}
                createdAt: {type: string, format: date-time}
                startedAt: {type: string, format: date-time}
                completedAt: {type: string, format: date-time}
                lastEvent: {type: integer}
            ProjectPage:
              type: object
              required: [projects]
              properties:
                projects: {type: array, items: {$ref: "#/components/schemas/Project"}}
                next: {type: string, description: the cursor of the next page}
            ProjectDetail:
              type: object
              required: [project, stageRuns, tasks, artifacts]
              properties:
                project: {$ref: "#/components/schemas/Project"}
                stageRuns: {type: array, items: {$ref: "#/components/schemas/StageRun"}}
                tasks: {type: array, items: {$ref: "#/components/schemas/Task"}}
                artifacts: {type: array, items: {$ref: "#/components/schemas/Artifact"}}
            StageRun:
              type: object
              required: [id, stage, round, state, startedAt]
              properties: {id: {type: string}, stage: {type: string}, round: {type: integer}, state: {type: string}, startedAt: {type: string, format: date-time}}
            Task:
              type: object
              required: [id, stage, stageRunID, index, title, state, attempts, approved]
              properties:
                id: {type: string}
                stage: {type: string}
                stageRunID: {type: string}
                index: {type: integer}
                title: {type: string}
                state: {type: string, enum: [pending, queued, processing, done, failed]}
                content: {type: string}
                error: {type: string}
                attempts: {type: integer}
                approved: {type: boolean}
            Artifact:
              type: object
              required: [id, stage, name, mediaType, size, sha256, version, createdAt]
              properties:
                id: {type: string}
                stage: {type: string}
                name: {type: string}
                mediaType: {type: string}
                size: {type: integer}
                sha256: {type: string}
                version: {type: integer}
                createdAt: {type: string, format: date-time}
            Approval:
              type: object
              required: [id, projectID, stage, state, contentHash, items]
              properties:
                id: {type: string}
                projectID: {type: string}
                stage: {type: string}
                state: {type: string}
                contentHash: {type: string}
                items: {type: array, items: {type: object}}
        """#.replacingOccurrences(of: "__ACTIONS__", with: actions)

    /// The project commands share one shape.
    private static let actions: String = ProjectActionDocs.paths
}
