import Contracts
import Testing

@testable import WorkflowKit

@Suite struct JSONSchemaTests {
    private func violations(_ schema: JSONValue, _ value: JSONValue) throws -> [String] {
        try JSONSchema(schema).validate(value).map(\.description)
    }

    @Test func eachKeyword() throws {
        #expect(try violations(["type": "string"], 3) == ["/: expected string, got integer"])
        #expect(try violations(["type": "integer"], 2.5) == ["/: expected integer, got number"])
        #expect(try violations(["type": ["string", "null"]], nil).isEmpty)
        #expect(try violations(["enum": ["a", "b"]], "c") == [#"/: must be one of "a", "b""#])
        #expect(try violations(["const": 1], 2) == ["/: must be 1"])
        #expect(try violations(["minimum": 1, "maximum": 10], 11) == ["/: must be at most 10"])
        #expect(try violations(["minimum": 1], 0) == ["/: must be at least 1"])
        #expect(try violations(["minLength": 2, "maxLength": 3], "a") == ["/: must have at least 2 characters"])
        #expect(try violations(["maxLength": 3], "abcd") == ["/: must have at most 3 characters"])
        #expect(try violations(["minItems": 1], []) == ["/: must have at least 1 items"])
        #expect(try violations(["maxItems": 1], [1, 2]) == ["/: must have at most 1 items"])
        #expect(try violations(["pattern": "^#[0-9a-f]{6}$"], "#12345g") == ["/: must match the pattern ^#[0-9a-f]{6}$"])
        #expect(try violations(["type": "object", "required": ["a"], "properties": ["a": ["type": "string"]]], [:]) == ["/a: is required"])
        #expect(try violations(["type": "object", "additionalProperties": false], ["x": 1]) == ["/x: is not an allowed property"])
        #expect(
            try violations(["type": "object", "additionalProperties": ["type": "string"]], ["x": 1]) == ["/x: expected string, got integer"]
        )
    }

    @Test func nestedErrorsHaveFullPointers() throws {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "pages": [
                    "type": "array",
                    "items": [
                        "type": "object", "required": ["title"], "properties": ["title": ["type": "string"], "a/b": ["type": "integer"]],
                    ],
                ]
            ],
        ]
        let value: JSONValue = ["pages": [["title": "ok"], ["title": 3, "a/b": "x"], [:]]]
        #expect(
            try violations(schema, value) == [
                "/pages/1/a~1b: expected integer, got string", "/pages/1/title: expected string, got integer",
                "/pages/2/title: is required",
            ])
    }

    @Test func invalidSchemasAreRefusedWithPointers() {
        let error = #expect(throws: SchemaError.self) {
            try JSONSchema([
                "type": "object", "properties": ["a": ["type": "text"], "b": ["oneOf": []]], "required": ["c"], "pattern": "(",
            ])
        }
        let messages = error?.violations.map(\.description) ?? []
        #expect(messages.contains { $0.hasPrefix("/properties/a/type: unknown type") })
        #expect(messages.contains("/properties/b/oneOf: unsupported keyword 'oneOf'"))
        #expect(messages.contains("/required: 'c' is required but not among the properties"))
        #expect(messages.contains { $0.hasPrefix("/pattern:") })
    }
}
