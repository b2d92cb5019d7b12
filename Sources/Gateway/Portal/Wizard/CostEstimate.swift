import Contracts
import Foundation
import WorkflowKit

/// The most a project can cost before it is created: for every `ai` stage, its tasks times the longest answer the
/// model may give (the provider's `max_output_tokens`) and the prompt, at the prices the ProviderGateway reports.
/// A `foreach` stage makes one task per item of an earlier answer; how many is guessed from the parameter that
/// counts them (`pages` from a `pages` or `page_count` parameter), else the largest `…_count` parameter, else five.
struct CostEstimate: Sendable {
    struct Line: Sendable {
        var stage: String
        var tasks: Int
        var model: String
        var cost: String
    }

    var lines: [Line]
    var total: Double
    /// The stages whose model has no price: the estimate leaves them out.
    var unpriced: [String]

    init(definition: WorkflowDefinition, params: [String: JSONValue], prices: PriceList) {
        let paramsCharacters = (try? JSONEncoder().encode(params).count) ?? 0
        var lines: [Line] = []
        var unpriced: [String] = []
        var total = 0.0
        for stage in definition.orderedStages where stage.executionMode == .ai {
            let (provider, model) = definition.generator(of: stage)
            guard let price = prices.price(provider: provider, model: model) else {
                unpriced.append(stage.name)
                continue
            }
            let tasks = stage.foreach.map { Self.items(of: $0, params: params) } ?? 1
            let prompt = (stage.prompt?.user.count ?? 0) + (stage.prompt?.system?.count ?? 0) + paramsCharacters
            let cost = Double(tasks) * price.mostCost(promptCharacters: prompt, maxTokens: price.maxOutputTokens)
            total += cost
            lines.append(Line(stage: stage.name, tasks: tasks, model: price.name, cost: Money.format(cost)))
        }
        (self.lines, self.total, self.unpriced) = (lines, total, unpriced)
    }

    /// How many items `outputs.sitemap.pages` will have, from the parameters.
    static func items(of path: String, params: [String: JSONValue]) -> Int {
        let noun = path.split(separator: ".").last.map(String.init) ?? ""
        let singular = noun.hasSuffix("s") ? String(noun.dropLast()) : noun
        if let count = params[noun]?.numberValue ?? params["\(singular)_count"]?.numberValue { return max(1, Int(count)) }
        let counts = params.filter { $0.key.hasSuffix("_count") }.compactMap { $0.value.numberValue }
        return max(1, Int(counts.max() ?? 5))
    }
}
