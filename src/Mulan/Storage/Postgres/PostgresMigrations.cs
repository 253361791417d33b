using Dapper;
using Npgsql;

namespace Mulan.Storage.Postgres;

/// <summary>
/// Forward-only schema migrations for PostgreSQL, applied in order at start-up, each in its own transaction, under an
/// advisory lock so that nodes starting together apply each step once. The schema means what SQLite's does
/// (<see cref="SqliteMigrations"/>): the same tables and columns, times as epoch milliseconds in bigint, flags as 0/1,
/// amounts as exact decimal text, vectors as little-endian float32 bytes (<see cref="VectorBlob"/>). Names compared
/// without regard to case in SQLite (COLLATE NOCASE) are unique by lower() here and compared with lower() by the stores.
/// </summary>
internal static class PostgresMigrations
{
    // Any constant, the same on every node: the lock serializes migrations, nothing else.
    private const long MigrationLock = 0x6D756C616E; // "mulan"

    private static readonly string[] Steps =
    [
        // 1: access, catalog, the usage ledger (seq is the order records were written, SQLite's rowid) and its daily rollup, the audit log
        """
        CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE workspaces (
            id text PRIMARY KEY,
            name text NOT NULL,
            created_at bigint NOT NULL,
            budget_amount text NULL,
            budget_currency text NULL,
            budget_period text NULL,
            rpm bigint NULL,
            tpm bigint NULL,
            local_only bigint NOT NULL DEFAULT 0,
            pii text NULL,
            deleted_at bigint NULL);
        CREATE UNIQUE INDEX workspaces_name ON workspaces (lower(name));
        CREATE TABLE virtual_keys (
            id text PRIMARY KEY,
            workspace_id text NOT NULL REFERENCES workspaces(id),
            name text NOT NULL,
            key_hash text NOT NULL UNIQUE,
            display_prefix text NOT NULL,
            models text NULL,
            budget_amount text NULL,
            budget_currency text NULL,
            budget_period text NULL,
            rpm bigint NULL,
            tpm bigint NULL,
            expires_at bigint NULL,
            revoked_at bigint NULL,
            created_at bigint NOT NULL,
            local_only bigint NOT NULL DEFAULT 0);
        CREATE INDEX virtual_keys_workspace ON virtual_keys(workspace_id);
        CREATE TABLE providers (
            name text PRIMARY KEY,
            definition text NOT NULL,
            secret bytea NULL,
            created_at bigint NOT NULL);
        CREATE TABLE model_routes (
            name text PRIMARY KEY,
            definition text NOT NULL,
            created_at bigint NOT NULL);
        CREATE TABLE usage_records (
            request_id text PRIMARY KEY,
            seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
            at bigint NOT NULL,
            workspace_id text NOT NULL,
            key_id text NOT NULL,
            endpoint text NOT NULL,
            model text NOT NULL,
            provider text NULL,
            vendor_model text NULL,
            upstream_id text NULL,
            input_tokens bigint NOT NULL,
            cached_tokens bigint NOT NULL,
            output_tokens bigint NOT NULL,
            cost_nanos bigint NOT NULL,
            currency text NULL,
            latency_ms double precision NOT NULL,
            ttft_ms double precision NULL,
            status text NOT NULL,
            usage_source text NOT NULL,
            streamed bigint NOT NULL,
            http_status bigint NOT NULL,
            error text NULL,
            attempts bigint NOT NULL DEFAULT 1,
            unserved text NULL,
            reasoning_tokens bigint NOT NULL DEFAULT 0,
            price text NULL,
            app_id text NULL,
            app_version bigint NULL,
            end_user text NULL,
            parent_request_id text NULL,
            run_id text NULL,
            evaluation_run_id text NULL,
            units_milli bigint NOT NULL DEFAULT 0,
            unit text NULL);
        CREATE INDEX usage_at ON usage_records(at);
        CREATE INDEX usage_workspace_at ON usage_records(workspace_id, at);
        CREATE INDEX usage_key_at ON usage_records(key_id, at);
        CREATE INDEX usage_app_at ON usage_records(app_id, at) WHERE app_id IS NOT NULL;
        CREATE INDEX usage_run ON usage_records(run_id) WHERE run_id IS NOT NULL;
        CREATE INDEX usage_evaluation_run ON usage_records(evaluation_run_id) WHERE evaluation_run_id IS NOT NULL;
        CREATE TABLE usage_daily (
            workspace_id text NOT NULL,
            day bigint NOT NULL,
            key_id text NOT NULL,
            app_id text NOT NULL,
            evaluation_run_id text NOT NULL,
            model text NOT NULL,
            provider text NOT NULL,
            vendor_model text NOT NULL,
            currency text NOT NULL,
            requests bigint NOT NULL,
            cost_nanos bigint NOT NULL,
            PRIMARY KEY (workspace_id, day, key_id, app_id, evaluation_run_id, model, provider, vendor_model, currency));
        CREATE FUNCTION usage_daily_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO usage_daily VALUES (NEW.workspace_id, NEW.at / 86400000, NEW.key_id, COALESCE(NEW.app_id, ''), COALESCE(NEW.evaluation_run_id, ''),
                NEW.model, COALESCE(NEW.provider, ''), COALESCE(NEW.vendor_model, ''), COALESCE(NEW.currency, ''), 1, NEW.cost_nanos)
            ON CONFLICT (workspace_id, day, key_id, app_id, evaluation_run_id, model, provider, vendor_model, currency)
            DO UPDATE SET requests = usage_daily.requests + 1, cost_nanos = usage_daily.cost_nanos + excluded.cost_nanos;
            RETURN NULL;
        END $$;
        CREATE TRIGGER usage_daily_add AFTER INSERT ON usage_records FOR EACH ROW EXECUTE FUNCTION usage_daily_add();
        CREATE TABLE usage_hourly (
            workspace_id text NOT NULL,
            hour bigint NOT NULL,
            key_id text NOT NULL,
            app_id text NOT NULL,
            model text NOT NULL,
            provider text NOT NULL,
            currency text NOT NULL,
            requests bigint NOT NULL,
            errors bigint NOT NULL,
            input_tokens bigint NOT NULL,
            output_tokens bigint NOT NULL,
            cost_nanos bigint NOT NULL,
            PRIMARY KEY (workspace_id, hour, key_id, app_id, model, provider, currency));
        CREATE INDEX usage_hourly_hour ON usage_hourly(hour);
        CREATE TABLE usage_latency_hourly (
            hour bigint NOT NULL,
            workspace_id text NOT NULL,
            bucket bigint NOT NULL,
            requests bigint NOT NULL,
            PRIMARY KEY (hour, workspace_id, bucket));
        CREATE TABLE usage_rollup (name text PRIMARY KEY, last_seq bigint NOT NULL);
        INSERT INTO usage_rollup VALUES ('hourly', 0);
        CREATE TABLE audit_log (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            at bigint NOT NULL,
            actor text NOT NULL,
            action text NOT NULL,
            target_type text NOT NULL,
            target_id text NOT NULL,
            workspace_id text NULL,
            details text NULL);
        CREATE INDEX audit_log_at ON audit_log(at);
        CREATE INDEX audit_log_workspace_at ON audit_log(workspace_id, at);
        """,
        // 2: knowledge bases, documents (the ingestion queue is the documents' status), chunks and their vectors
        """
        CREATE TABLE knowledge_bases (
            id text PRIMARY KEY,
            workspace_id text NOT NULL REFERENCES workspaces(id),
            name text NOT NULL,
            description text NULL,
            created_at bigint NOT NULL,
            embedding_model text NULL,
            pending_embedding_model text NULL,
            rerank_model text NULL,
            ocr_model text NULL,
            transcription_model text NULL,
            UNIQUE (workspace_id, name));
        CREATE TABLE documents (
            id text PRIMARY KEY,
            kb_id text NOT NULL REFERENCES knowledge_bases(id),
            title text NOT NULL,
            source text NOT NULL,
            media_type text NULL,
            size bigint NOT NULL,
            sha256 text NOT NULL,
            status text NOT NULL,
            error text NULL,
            chunk_count bigint NOT NULL DEFAULT 0,
            attempts bigint NOT NULL DEFAULT 0,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            origin text NULL,
            replaces text NULL,
            renamed bigint NOT NULL DEFAULT 0);
        CREATE INDEX documents_kb ON documents(kb_id);
        CREATE INDEX documents_queue ON documents(status, created_at);
        CREATE INDEX documents_origin ON documents(kb_id, origin);
        CREATE TABLE chunks (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            kb_id text NOT NULL,
            document_id text NOT NULL REFERENCES documents(id),
            ordinal bigint NOT NULL,
            text text NOT NULL,
            section text NULL,
            page bigint NULL,
            UNIQUE (document_id, ordinal));
        CREATE INDEX chunks_kb ON chunks(kb_id);
        CREATE TABLE chunk_vectors (
            chunk_id bigint NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
            model text NOT NULL,
            vector bytea NOT NULL,
            PRIMARY KEY (chunk_id, model));
        CREATE INDEX chunk_vectors_model ON chunk_vectors(model, chunk_id);
        """,
        // 3: apps, their versions, conversations, answers and feedback; per-workspace compliance rules
        """
        CREATE TABLE apps (
            id text PRIMARY KEY,
            workspace_id text NOT NULL,
            slug text NOT NULL,
            name text NOT NULL,
            kind text NOT NULL,
            latest_version bigint NOT NULL,
            published_version bigint NULL,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            UNIQUE (workspace_id, slug));
        CREATE TABLE app_versions (
            app_id text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            version bigint NOT NULL,
            definition text NOT NULL,
            note text NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (app_id, version));
        CREATE TABLE conversations (
            id text PRIMARY KEY,
            app_id text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            workspace_id text NOT NULL,
            end_user text NOT NULL,
            title text NOT NULL,
            messages bigint NOT NULL,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL);
        CREATE INDEX conversations_app_user ON conversations(app_id, end_user, updated_at);
        CREATE TABLE conversation_messages (
            conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            seq bigint NOT NULL,
            role text NOT NULL,
            content text NOT NULL,
            request_id text NULL,
            app_version bigint NULL,
            citations text NULL,
            at bigint NOT NULL,
            PRIMARY KEY (conversation_id, seq));
        CREATE TABLE app_answers (
            request_id text PRIMARY KEY,
            app_id text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            app_version bigint NOT NULL,
            workspace_id text NOT NULL,
            key_id text NOT NULL,
            end_user text NOT NULL,
            conversation_id text NULL,
            question text NOT NULL,
            answer text NOT NULL,
            citations text NULL,
            at bigint NOT NULL);
        CREATE TABLE app_feedback (
            request_id text PRIMARY KEY REFERENCES app_answers(request_id) ON DELETE CASCADE,
            app_id text NOT NULL,
            app_version bigint NOT NULL,
            workspace_id text NOT NULL,
            end_user text NOT NULL,
            rating text NOT NULL,
            comment text NULL,
            correction text NULL,
            question text NOT NULL,
            answer text NOT NULL,
            at bigint NOT NULL);
        CREATE INDEX app_feedback_app ON app_feedback(app_id, at);
        CREATE TABLE compliance_rules (
            workspace_id text PRIMARY KEY,
            rules text NOT NULL,
            updated_at bigint NOT NULL);
        """,
        // 4: the assistant: tool sources, runs with their state, messages and steps, when each schedule last fired
        """
        CREATE TABLE tool_sources (
            id text PRIMARY KEY,
            workspace_id text NOT NULL,
            name text NOT NULL,
            kind text NOT NULL,
            definition text NOT NULL,
            tools text NOT NULL,
            credential bytea NULL,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            UNIQUE (workspace_id, name));
        CREATE TABLE runs (
            id text PRIMARY KEY,
            app_id text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            app_version bigint NOT NULL,
            workspace_id text NOT NULL,
            key_id text NOT NULL,
            origin text NOT NULL,
            schedule text NULL,
            status text NOT NULL,
            input text NOT NULL,
            output text NULL,
            error text NULL,
            state text NOT NULL,
            prompt_tokens bigint NOT NULL,
            completion_tokens bigint NOT NULL,
            cost_nanos bigint NOT NULL,
            currency text NULL,
            steps bigint NOT NULL,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            ended_at bigint NULL);
        CREATE INDEX runs_app ON runs(app_id, created_at);
        CREATE INDEX runs_workspace_status ON runs(workspace_id, status, created_at);
        CREATE TABLE run_steps (
            run_id text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            seq bigint NOT NULL,
            kind text NOT NULL,
            name text NULL,
            status text NOT NULL,
            input text NULL,
            output text NULL,
            error text NULL,
            duration_ms bigint NOT NULL,
            cost_nanos bigint NOT NULL,
            request_id text NULL,
            at bigint NOT NULL,
            PRIMARY KEY (run_id, seq));
        CREATE TABLE run_messages (
            run_id text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            seq bigint NOT NULL,
            message text NOT NULL,
            PRIMARY KEY (run_id, seq));
        CREATE TABLE schedule_state (
            app_id text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            schedule text NOT NULL,
            last_fired_at bigint NOT NULL,
            PRIMARY KEY (app_id, schedule));
        """,
        // 5: evaluations: sets and their versions, runs, one stored result per finished item
        """
        CREATE TABLE evaluation_sets (
            id text PRIMARY KEY,
            workspace_id text NOT NULL,
            name text NOT NULL,
            latest_version bigint NOT NULL,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL);
        CREATE INDEX evaluation_sets_workspace ON evaluation_sets(workspace_id, created_at);
        CREATE TABLE evaluation_set_versions (
            set_id text NOT NULL REFERENCES evaluation_sets(id) ON DELETE CASCADE,
            version bigint NOT NULL,
            items text NOT NULL,
            item_count bigint NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (set_id, version));
        CREATE TABLE evaluation_runs (
            id text PRIMARY KEY,
            workspace_id text NOT NULL,
            set_id text NOT NULL,
            set_version bigint NOT NULL,
            target text NOT NULL,
            app_id text NULL,
            judge text NULL,
            concurrency bigint NOT NULL,
            max_cost_nanos bigint NULL,
            status text NOT NULL,
            reason text NULL,
            item_count bigint NOT NULL,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            ended_at bigint NULL);
        CREATE INDEX evaluation_runs_workspace ON evaluation_runs(workspace_id, created_at);
        CREATE INDEX evaluation_runs_status ON evaluation_runs(status);
        CREATE TABLE evaluation_run_items (
            run_id text NOT NULL REFERENCES evaluation_runs(id) ON DELETE CASCADE,
            idx bigint NOT NULL,
            result text NOT NULL,
            cost_nanos bigint NOT NULL,
            judge_cost_nanos bigint NOT NULL,
            PRIMARY KEY (run_id, idx));
        """,
        // 6: pilots: scope, change requests, effort, alerts, sign-offs and bake-offs (JSON documents keyed for their lookups)
        """
        CREATE TABLE pilots (
            id text PRIMARY KEY,
            workspace_id text NOT NULL,
            data text NOT NULL,
            frozen_at bigint NULL,
            created_at bigint NOT NULL);
        CREATE INDEX pilots_workspace ON pilots(workspace_id, created_at);
        CREATE TABLE pilot_scope (
            id text PRIMARY KEY,
            pilot_id text NOT NULL REFERENCES pilots(id) ON DELETE CASCADE,
            seq bigint NOT NULL,
            data text NOT NULL);
        CREATE INDEX pilot_scope_pilot ON pilot_scope(pilot_id, seq);
        CREATE TABLE pilot_changes (
            id text PRIMARY KEY,
            pilot_id text NOT NULL REFERENCES pilots(id) ON DELETE CASCADE,
            status text NOT NULL,
            data text NOT NULL,
            created_at bigint NOT NULL);
        CREATE INDEX pilot_changes_pilot ON pilot_changes(pilot_id, created_at);
        CREATE TABLE pilot_effort (
            id text PRIMARY KEY,
            pilot_id text NOT NULL REFERENCES pilots(id) ON DELETE CASCADE,
            data text NOT NULL,
            created_at bigint NOT NULL);
        CREATE INDEX pilot_effort_pilot ON pilot_effort(pilot_id, created_at);
        CREATE TABLE pilot_alerts (
            pilot_id text NOT NULL REFERENCES pilots(id) ON DELETE CASCADE,
            kind text NOT NULL,
            threshold text NOT NULL,
            data text NOT NULL,
            PRIMARY KEY (pilot_id, kind, threshold));
        CREATE TABLE pilot_signoffs (
            pilot_id text NOT NULL REFERENCES pilots(id) ON DELETE CASCADE,
            side text NOT NULL,
            data text NOT NULL,
            PRIMARY KEY (pilot_id, side));
        CREATE TABLE pilot_bakeoffs (
            id text PRIMARY KEY,
            pilot_id text NOT NULL REFERENCES pilots(id) ON DELETE CASCADE,
            created_at bigint NOT NULL,
            data text NOT NULL);
        CREATE INDEX pilot_bakeoffs_pilot ON pilot_bakeoffs (pilot_id, created_at);
        """,
        // 7: people: users (email unique without regard to case), workspace roles, sessions, personal tokens, invitations
        """
        CREATE TABLE users (
            id text PRIMARY KEY,
            email text NOT NULL,
            name text NULL,
            password_hash text NULL,
            instance_admin bigint NOT NULL DEFAULT 0,
            disabled bigint NOT NULL DEFAULT 0,
            failed_count bigint NOT NULL DEFAULT 0,
            locked_until bigint NULL,
            created_at bigint NOT NULL);
        CREATE UNIQUE INDEX users_email ON users (lower(email));
        CREATE TABLE memberships (
            user_id text NOT NULL,
            workspace_id text NOT NULL,
            role text NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (user_id, workspace_id));
        CREATE INDEX memberships_workspace ON memberships(workspace_id);
        CREATE TABLE sessions (
            token_hash text PRIMARY KEY,
            user_id text NOT NULL,
            created_at bigint NOT NULL,
            expires_at bigint NOT NULL);
        CREATE INDEX sessions_user ON sessions(user_id);
        CREATE TABLE personal_tokens (
            id text PRIMARY KEY,
            user_id text NOT NULL,
            name text NOT NULL,
            token_hash text NOT NULL UNIQUE,
            display_prefix text NOT NULL,
            workspace_id text NULL,
            expires_at bigint NULL,
            revoked_at bigint NULL,
            created_at bigint NOT NULL);
        CREATE INDEX personal_tokens_user ON personal_tokens(user_id);
        CREATE TABLE invitations (
            token_hash text PRIMARY KEY,
            user_id text NOT NULL,
            expires_at bigint NOT NULL,
            used_at bigint NULL,
            created_at bigint NOT NULL);
        """,
        // 8: share links of the chat page (only the token's hash)
        """
        CREATE TABLE chat_shares (
            id text PRIMARY KEY,
            app_id text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            workspace_id text NOT NULL,
            name text NULL,
            token_hash text NOT NULL UNIQUE,
            display_prefix text NOT NULL,
            created_by text NOT NULL,
            created_at bigint NOT NULL,
            expires_at bigint NOT NULL,
            revoked_at bigint NULL);
        CREATE INDEX chat_shares_app ON chat_shares (app_id, created_at);
        """,
        // 9: the knowledge change log each node's in-memory indexes follow (PostgresKnowledgeSync). seq orders the changes;
        // tx is the writing transaction's id, so that a reader takes only changes of transactions that have all ended.
        """
        CREATE TABLE knowledge_changes (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tx bigint NOT NULL DEFAULT (pg_current_xact_id()::text)::bigint,
            kind text NOT NULL,
            kb_id text NULL,
            document_id text NULL,
            replaces text NULL,
            model text NULL,
            from_chunk bigint NULL,
            to_chunk bigint NULL,
            at bigint NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
        CREATE INDEX knowledge_changes_tx ON knowledge_changes (tx);
        """,
    ];

    /// <summary>How many steps this build knows; a database migrated further by a newer build is refused.</summary>
    public static int Latest => Steps.Length;

    public static async Task ApplyAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await connection.ExecuteAsync("CREATE TABLE IF NOT EXISTS mulan_schema (version bigint NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
        await connection.ExecuteAsync("SELECT pg_advisory_lock(@MigrationLock)", new { MigrationLock });
        try
        {
            var current = await connection.ExecuteScalarAsync<long?>("SELECT MAX(version) FROM mulan_schema") ?? 0;
            if (current > Steps.Length)
            {
                throw new Hosting.StartupException(
                    $"Storage:Postgres: the database is at schema version {current}, newer than this build knows ({Steps.Length}); run the newer Mulan");
            }
            for (var i = (int)current; i < Steps.Length; i++)
            {
                await using var tx = await connection.BeginTransactionAsync(ct);
                await connection.ExecuteAsync(Steps[i], transaction: tx);
                await connection.ExecuteAsync("INSERT INTO mulan_schema (version) VALUES (@v)", new { v = (long)(i + 1) }, tx);
                await tx.CommitAsync(ct);
            }
        }
        finally
        {
            await connection.ExecuteAsync("SELECT pg_advisory_unlock(@MigrationLock)", new { MigrationLock });
        }
    }
}
