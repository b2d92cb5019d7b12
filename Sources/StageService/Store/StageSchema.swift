import GRDB

/// The StageService tables: projects (with the exact definition they run), stage runs, tasks, the per-project event
/// log, durable timers and artifacts' metadata. Named migrations, never edited once shipped.
enum StageSchema {
    static func migrate(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("stage-v1") { db in
            try db.create(table: "project") { table in
                table.primaryKey("id", .text)
                table.column("name", .text).notNull()
                table.column("template", .text).notNull()
                table.column("templateVersion", .integer).notNull()
                table.column("params", .jsonText).notNull()
                table.column("ownerID", .text).notNull().indexed()
                table.column("ownerEmail", .text)
                table.column("state", .text).notNull().indexed()
                table.column("reason", .text)
                table.column("message", .text)
                table.column("stage", .text)
                table.column("stageRunID", .text)
                table.column("waitingFor", .text)
                table.column("progress", .integer).notNull()
                table.column("budget", .double)
                table.column("cost", .double).notNull()
                table.column("lastEvent", .integer).notNull()
                table.column("lastDispatchAt", .datetime)
                table.column("createdAt", .datetime).notNull().indexed()
                table.column("startedAt", .datetime)
                table.column("completedAt", .datetime)
            }
            // The exact definition a project runs, apart from its row: it never changes, so it is read once.
            try db.create(table: "projectDefinition") { table in
                table.primaryKey("projectID", .text)
                table.column("definition", .jsonText).notNull()
            }
            try db.create(table: "stageRun") { table in
                table.primaryKey("id", .text)
                table.column("projectID", .text).notNull().indexed()
                table.column("stage", .text).notNull()
                table.column("round", .integer).notNull()
                table.column("state", .text).notNull()
                table.column("startedAt", .datetime).notNull()
                table.column("completedAt", .datetime)
                table.column("approvalID", .text)
                table.column("contentHash", .text)
                table.column("decision", .text)
                table.column("feedback", .text)
            }
            try db.create(table: "task") { table in
                table.primaryKey("id", .text)
                table.column("projectID", .text).notNull().indexed()
                table.column("stageRunID", .text).notNull().indexed()
                table.column("stage", .text).notNull()
                table.column("position", .integer).notNull()
                table.column("title", .text).notNull()
                table.column("item", .jsonText)
                table.column("state", .text).notNull()
                table.column("content", .text)
                table.column("error", .text)
                table.column("attempts", .integer).notNull()
                table.column("failedSends", .integer).notNull()
                table.column("feedback", .text)
                table.column("approved", .boolean).notNull()
                table.column("requestID", .text).unique()
                table.column("system", .text)
                table.column("prompt", .text)
                table.column("validationErrors", .jsonText).notNull()
                table.column("provider", .text)
                table.column("model", .text)
                table.column("tokensIn", .integer).notNull()
                table.column("tokensOut", .integer).notNull()
                table.column("cost", .double).notNull()
                table.column("latencyMilliseconds", .integer)
                /// A pending task is not sent before this (a retry's backoff).
                table.column("notBefore", .datetime)
                /// A sent task with no result by then is sent again with the same request id.
                table.column("leaseUntil", .datetime)
                table.column("updatedAt", .datetime).notNull()
            }
            try db.create(index: "task_dispatch", on: "task", columns: ["state", "projectID"])
            try db.create(table: "projectEvent") { table in
                table.column("projectID", .text).notNull()
                table.column("sequence", .integer).notNull()
                table.primaryKey(["projectID", "sequence"])
                table.column("kind", .text).notNull()
                table.column("stage", .text)
                table.column("taskID", .text)
                table.column("message", .text).notNull()
                table.column("state", .text).notNull()
                table.column("progress", .integer).notNull()
                table.column("at", .datetime).notNull()
            }
            try db.create(table: "stageTimer") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("projectID", .text).notNull()
                table.column("stageRunID", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("dueAt", .datetime).notNull()
                table.column("firedAt", .datetime)
            }
            try db.create(index: "stageTimer_due", on: "stageTimer", columns: ["firedAt", "dueAt"])
            try db.create(table: "artifact") { table in
                table.primaryKey("id", .text)
                table.column("projectID", .text).notNull().indexed()
                table.column("stage", .text).notNull()
                table.column("name", .text).notNull()
                table.column("mediaType", .text).notNull()
                table.column("size", .integer).notNull()
                table.column("sha256", .text).notNull()
                table.column("version", .integer).notNull()
                table.column("path", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("stage-v2-budgets") { db in
            // What the tasks in flight may still cost at most, held against the budget until their results settle it.
            try db.alter(table: "project") { table in table.add(column: "reserved", .double).notNull().defaults(to: 0) }
            try db.alter(table: "task") { table in table.add(column: "reservedCost", .double).notNull().defaults(to: 0) }
        }
        migrator.registerMigration("stage-v3-survey-responses") { db in
            try db.create(table: "surveyResponse") { table in
                table.primaryKey("id", .text)
                table.column("surveyID", .text).notNull().indexed()
                table.column("projectID", .text).notNull()
                table.column("answers", .jsonText).notNull()
                table.column("submittedAt", .datetime).notNull()
            }
        }
    }
}
