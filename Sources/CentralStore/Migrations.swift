/// The schema, as numbered migrations shared by both databases. A migration is never edited once
/// released: a change is a new migration at the end. Each storage records which ran.
///
/// The SQL is the common subset of SQLite and PostgreSQL (`TEXT`, `BIGINT`, `DOUBLE PRECISION`,
/// `BOOLEAN`; instants are seconds since 1970 as `DOUBLE PRECISION`), except for generated keys,
/// which each dialect spells its own way.
enum Migrations {
    enum Dialect {
        case sqlite, postgres

        var generatedKey: String {
            switch self {
            case .sqlite: "INTEGER PRIMARY KEY AUTOINCREMENT"
            case .postgres: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
            }
        }
    }

    static func all(_ dialect: Dialect) -> [(id: String, statements: [String])] {
        [
        ("001-core", [
            """
            CREATE TABLE routes (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                poles TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE profile_versions (
                route TEXT NOT NULL REFERENCES routes(id),
                version BIGINT NOT NULL,
                document TEXT NOT NULL,
                signed_bundle TEXT NOT NULL,
                author TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                comment TEXT NOT NULL,
                PRIMARY KEY (route, version)
            )
            """,
            """
            CREATE TABLE audit_log (
                id \(dialect.generatedKey),
                at DOUBLE PRECISION NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT NOT NULL,
                detail TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE users (
                name TEXT PRIMARY KEY,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE pole_snapshots (
                pole TEXT PRIMARY KEY,
                route TEXT NOT NULL,
                online BOOLEAN NOT NULL,
                level DOUBLE PRECISION,
                state TEXT,
                profile_version BIGINT,
                faults TEXT NOT NULL,
                firmware TEXT,
                updated_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX pole_snapshots_route ON pole_snapshots(route)",
            """
            CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY,
                user_name TEXT NOT NULL REFERENCES users(name),
                csrf TEXT NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL
            )
            """,
        ]),
        ("002-rollouts", [
            """
            CREATE TABLE rollouts (
                id \(dialect.generatedKey),
                route TEXT NOT NULL,
                version BIGINT NOT NULL,
                body TEXT NOT NULL,
                finished BOOLEAN NOT NULL,
                created_by TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX rollouts_route ON rollouts(route, id)",
        ]),
        ("003-telemetry-alarms", [
            // Every report once (a QoS 1 message may come twice), then its shares per quarter hour.
            """
            CREATE TABLE telemetry_reports (
                pole TEXT NOT NULL,
                from_at DOUBLE PRECISION NOT NULL,
                to_at DOUBLE PRECISION NOT NULL,
                energy_wh DOUBLE PRECISION NOT NULL,
                detections BIGINT NOT NULL,
                PRIMARY KEY (pole, from_at)
            )
            """,
            """
            CREATE TABLE telemetry_15min (
                pole TEXT NOT NULL,
                route TEXT NOT NULL,
                bucket DOUBLE PRECISION NOT NULL,
                energy_wh DOUBLE PRECISION NOT NULL,
                detections BIGINT NOT NULL,
                PRIMARY KEY (pole, bucket)
            )
            """,
            "CREATE INDEX telemetry_15min_route ON telemetry_15min(route, bucket)",
            // `sensor` is '' for a fault of the pole itself: equality then works alike in both dialects.
            """
            CREATE TABLE alarms (
                id \(dialect.generatedKey),
                pole TEXT NOT NULL,
                route TEXT NOT NULL,
                code TEXT NOT NULL,
                sensor TEXT NOT NULL,
                detail TEXT,
                raised_at DOUBLE PRECISION NOT NULL,
                acknowledged_at DOUBLE PRECISION,
                acknowledged_by TEXT,
                cleared_at DOUBLE PRECISION
            )
            """,
            "CREATE INDEX alarms_route ON alarms(route, cleared_at)",
        ]),
        ("004-api-tokens", [
            """
            CREATE TABLE api_tokens (
                token_hash TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                role TEXT NOT NULL,
                created_by TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL
            )
            """,
        ]),
        ("005-level-time", [
            // Lit time and level time per report and quarter hour (0 from firmware that does not report them).
            "ALTER TABLE telemetry_reports ADD COLUMN lit_seconds DOUBLE PRECISION NOT NULL DEFAULT 0",
            "ALTER TABLE telemetry_reports ADD COLUMN level_percent_seconds DOUBLE PRECISION NOT NULL DEFAULT 0",
            "ALTER TABLE telemetry_15min ADD COLUMN lit_seconds DOUBLE PRECISION NOT NULL DEFAULT 0",
            "ALTER TABLE telemetry_15min ADD COLUMN level_percent_seconds DOUBLE PRECISION NOT NULL DEFAULT 0",
        ]),
        ("006-alarm-keys", [
            // Every instance stores every fault (plain subscriptions), so storing one twice must
            // change nothing: a raise is keyed by the pole's instant of it, and at most one alarm
            // of a pole, code and sensor is open. The database enforces both, so that instances
            // storing the same raise at once need no lock. A raise stored twice before this
            // (a late duplicate after its clear opened a second alarm) keeps its first row; the
            // acknowledgement of a removed duplicate stays in the audit log.
            """
            DELETE FROM alarms WHERE id NOT IN (SELECT MIN(id) FROM alarms GROUP BY pole, code, sensor, raised_at)
            """,
            "CREATE UNIQUE INDEX alarms_raise ON alarms(pole, code, sensor, raised_at)",
            "CREATE UNIQUE INDEX alarms_open ON alarms(pole, code, sensor) WHERE cleared_at IS NULL",
        ]),
        ("007-rollout-leases", [
            // Several instances on one database: the one that runs a rollout holds a lease on it,
            // and at most one rollout per route is unfinished, whichever instance starts it.
            "ALTER TABLE rollouts ADD COLUMN owner TEXT",
            "ALTER TABLE rollouts ADD COLUMN lease_until DOUBLE PRECISION",
            "ALTER TABLE rollouts ADD COLUMN halt_request TEXT",
            // Two instances could each start one before (the check was per instance): only the
            // route's newest stays to be resumed.
            """
            UPDATE rollouts SET finished = TRUE
            WHERE NOT finished AND id NOT IN (SELECT MAX(id) FROM rollouts WHERE NOT finished GROUP BY route)
            """,
            "CREATE UNIQUE INDEX rollouts_unfinished ON rollouts(route) WHERE NOT finished",
        ]),
        ]
    }
}
