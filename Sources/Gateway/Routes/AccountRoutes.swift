import Contracts
import Foundation
import Hummingbird

/// `/api/v1/me`, API keys, and for admins the users.
struct AccountRoutes {
    let accounts: Accounts

    struct Me: Codable, Sendable {
        var id: String
        var email: String
        var role: Role
    }

    struct KeyView: Codable, Sendable {
        var id: String
        var name: String
        var prefix: String
        var createdAt: Date
        var lastUsedAt: Date?
        var revokedAt: Date?
        var requests: Int
        var tokensIn: Int
        var tokensOut: Int
        var cost: Double
        /// Only in the answer that made the key.
        var key: String?

        init(_ key: APIKey, secret: String? = nil) {
            id = key.id
            name = key.name
            prefix = key.prefix
            createdAt = key.createdAt
            lastUsedAt = key.lastUsedAt
            revokedAt = key.revokedAt
            requests = key.requests
            tokensIn = key.tokensIn
            tokensOut = key.tokensOut
            cost = key.cost
            self.key = secret
        }
    }

    struct KeyBody: APIBody {
        static let fields: Set<String> = ["name"]
        var name: String
    }

    struct UserBody: APIBody {
        static let fields: Set<String> = ["email", "password", "role"]
        var email: String
        var password: String
        var role: Role?
    }

    func add(to group: RouterGroup<APIContext>) {
        group.get("me") { _, context in
            let caller = try context.caller()
            return JSONResponse(Me(id: caller.userID, email: caller.email, role: caller.role))
        }
        group.post("keys") { request, context in
            var request = request
            let caller = try context.caller()
            let body = try await request.decodeBody(as: KeyBody.self, context: context)
            let (key, secret) = try await accounts.createKey(for: caller.userID, name: body.name)
            return JSONResponse(KeyView(key, secret: secret), status: .created)
        }
        group.get("keys") { _, context in
            JSONResponse(try await accounts.keys(of: try context.caller().userID).map { KeyView($0) })
        }
        group.delete("keys/:id") { _, context in
            let id = try context.parameters.require("id")
            guard try await accounts.revokeKey(id, of: try context.caller().userID) else {
                throw APIError.notFound("you have no live key with the id '\(id)'")
            }
            return Response(status: .noContent)
        }
        group.get("users") { _, context in
            _ = try context.admin()
            return JSONResponse(try await accounts.store.users().map { Me(id: $0.id, email: $0.email, role: $0.role) })
        }
        group.post("users") { request, context in
            var request = request
            _ = try context.admin()
            let body = try await request.decodeBody(as: UserBody.self, context: context)
            let user = try await accounts.createUser(email: body.email, password: body.password, role: body.role ?? .user)
            return JSONResponse(Me(id: user.id, email: user.email, role: user.role), status: .created)
        }
    }
}
