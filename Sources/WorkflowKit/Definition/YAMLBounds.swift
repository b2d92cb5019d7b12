import CYaml
import Foundation

/// What a YAML document from outside may hold, checked on libyaml's event stream before any document is built.
///
/// A YAML parser that builds a tree expands every alias, so a few lines of anchors can stand for tens of millions of
/// nodes; a deep nesting overflows the stack of a recursive builder. Events come one at a time, with aliases
/// unexpanded and nesting as a counter, so checking them costs as much as reading the text once.
public struct YAMLBounds: Sendable {
    /// The longest document, in bytes.
    public var maximumBytes = 512 * 1024
    /// How many nodes (scalars, sequences, mappings) the document may have.
    public var maximumNodes = 50_000
    /// How deep sequences and mappings may nest.
    public var maximumDepth = 64
    /// How many aliases (`*name`) it may use; each may stand for a whole subtree, so uploads get none.
    public var maximumAliases = 0

    public init() {}

    /// The first bound `yaml` breaks, as a sentence that says what to change, or `nil` when it keeps them all.
    /// Syntax errors are left to the parser, which reports them with their line.
    public func violation(in yaml: String) -> String? {
        let size = yaml.utf8.count
        if size > maximumBytes {
            return "the document is \(size) bytes; at most \(maximumBytes) are accepted"
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return "the YAML parser could not start" }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(yaml.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var nodes = 0
            var depth = 0
            var aliases = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    // libyaml stops deep nesting itself (at 1,000 levels); other syntax errors are the parser's to report.
                    let problem = parser.problem.map { String(cString: $0) } ?? ""
                    guard problem.localizedCaseInsensitiveContains("nesting") else { return nil }
                    return "line \(Int(parser.problem_mark.line) + 1): lists and mappings nest more than \(maximumDepth) levels deep"
                }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_ALIAS_EVENT:
                    aliases += 1
                    if aliases > maximumAliases {
                        return maximumAliases == 0
                            ? "line \(line): YAML aliases (*name) are not accepted; repeat the value instead"
                            : "line \(line): more than \(maximumAliases) aliases"
                    }
                case YAML_SCALAR_EVENT:
                    nodes += 1
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    nodes += 1
                    depth += 1
                    if depth > maximumDepth {
                        return "line \(line): lists and mappings nest more than \(maximumDepth) levels deep"
                    }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    depth -= 1
                default:
                    break
                }
                if nodes > maximumNodes {
                    return "line \(line): the document has more than \(maximumNodes) values"
                }
            }
        }
    }
}
