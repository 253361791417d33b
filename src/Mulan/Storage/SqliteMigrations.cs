using Dapper;
using Microsoft.Data.Sqlite;

namespace Mulan.Storage;

/// <summary>Forward-only schema migrations, applied in order at start-up inside one transaction each.</summary>
internal static class SqliteMigrations
{
    private static readonly string[] Steps =
    [
        // 1: access, catalog and the usage ledger
        """
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE workspaces (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_at INTEGER NOT NULL);
        CREATE TABLE virtual_keys (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL REFERENCES workspaces(id),
            name TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            display_prefix TEXT NOT NULL,
            models TEXT NULL,
            budget_amount TEXT NULL,
            budget_currency TEXT NULL,
            budget_period TEXT NULL,
            rpm INTEGER NULL,
            tpm INTEGER NULL,
            expires_at INTEGER NULL,
            revoked_at INTEGER NULL,
            created_at INTEGER NOT NULL);
        CREATE INDEX virtual_keys_workspace ON virtual_keys(workspace_id);
        CREATE TABLE providers (
            name TEXT PRIMARY KEY,
            definition TEXT NOT NULL,
            secret BLOB NULL,
            created_at INTEGER NOT NULL);
        CREATE TABLE model_routes (
            name TEXT PRIMARY KEY,
            definition TEXT NOT NULL,
            created_at INTEGER NOT NULL);
        CREATE TABLE usage_records (
            request_id TEXT PRIMARY KEY,
            at INTEGER NOT NULL,
            workspace_id TEXT NOT NULL,
            key_id TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            model TEXT NOT NULL,
            provider TEXT NULL,
            vendor_model TEXT NULL,
            upstream_id TEXT NULL,
            input_tokens INTEGER NOT NULL,
            cached_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cost_nanos INTEGER NOT NULL,
            currency TEXT NULL,
            latency_ms REAL NOT NULL,
            ttft_ms REAL NULL,
            status TEXT NOT NULL,
            usage_source TEXT NOT NULL,
            streamed INTEGER NOT NULL,
            http_status INTEGER NOT NULL,
            error TEXT NULL);
        CREATE INDEX usage_at ON usage_records(at);
        CREATE INDEX usage_workspace_at ON usage_records(workspace_id, at);
        CREATE INDEX usage_key_at ON usage_records(key_id, at);
        """,
        // 2: knowledge bases, documents (the ingestion queue is the documents' status) and chunks
        """
        CREATE TABLE knowledge_bases (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL REFERENCES workspaces(id),
            name TEXT NOT NULL,
            description TEXT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (workspace_id, name));
        CREATE TABLE documents (
            id TEXT PRIMARY KEY,
            kb_id TEXT NOT NULL REFERENCES knowledge_bases(id),
            title TEXT NOT NULL,
            source TEXT NOT NULL,
            media_type TEXT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT NULL,
            chunk_count INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL);
        CREATE INDEX documents_kb ON documents(kb_id);
        CREATE INDEX documents_queue ON documents(status, created_at);
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kb_id TEXT NOT NULL,
            document_id TEXT NOT NULL REFERENCES documents(id),
            ordinal INTEGER NOT NULL,
            text TEXT NOT NULL,
            section TEXT NULL,
            page INTEGER NULL,
            UNIQUE (document_id, ordinal));
        CREATE INDEX chunks_kb ON chunks(kb_id);
        """,
        // 3: vectors. A knowledge base searches with its active embedding model; a pending one is being filled in
        // the background and replaces it when every chunk has a vector.
        """
        ALTER TABLE knowledge_bases ADD COLUMN embedding_model TEXT NULL;
        ALTER TABLE knowledge_bases ADD COLUMN pending_embedding_model TEXT NULL;
        ALTER TABLE knowledge_bases ADD COLUMN rerank_model TEXT NULL;
        CREATE TABLE chunk_vectors (
            chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (chunk_id, model)) WITHOUT ROWID;
        CREATE INDEX chunk_vectors_model ON chunk_vectors(model, chunk_id);
        """,
        // 4: upstream attempts per request, and the failed ones a vendor may still bill (JSON, null when none)
        """
        ALTER TABLE usage_records ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE usage_records ADD COLUMN unserved TEXT NULL;
        """,
        // 5: the price each request was charged at (prices change; a record keeps its own), and reasoning tokens
        """
        ALTER TABLE usage_records ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE usage_records ADD COLUMN price TEXT NULL;
        """,
        // 6: the audit log of administrative changes, append-only. No foreign key to workspaces: an entry must outlive
        // what it describes. details is JSON built from named fields only, never a secret.
        """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target_type TEXT NOT NULL,
            target_id TEXT NOT NULL,
            workspace_id TEXT NULL,
            details TEXT NULL);
        CREATE INDEX audit_log_at ON audit_log(at);
        CREATE INDEX audit_log_workspace_at ON audit_log(workspace_id, at);
        """,
        // 7: budgets and rate limits shared by all keys of a workspace
        """
        ALTER TABLE workspaces ADD COLUMN budget_amount TEXT NULL;
        ALTER TABLE workspaces ADD COLUMN budget_currency TEXT NULL;
        ALTER TABLE workspaces ADD COLUMN budget_period TEXT NULL;
        ALTER TABLE workspaces ADD COLUMN rpm INTEGER NULL;
        ALTER TABLE workspaces ADD COLUMN tpm INTEGER NULL;
        """,
        // 8: data residency per key and per workspace
        """
        ALTER TABLE workspaces ADD COLUMN local_only INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE virtual_keys ADD COLUMN local_only INTEGER NOT NULL DEFAULT 0;
        """,
        // 9: a workspace's PII guard rules (JSON)
        """
        ALTER TABLE workspaces ADD COLUMN pii TEXT NULL;
        """,
        // 10: deleted workspaces are kept (marked, their name freed) so that their usage records and revoked keys
        // still resolve for accounting
        """
        ALTER TABLE workspaces ADD COLUMN deleted_at INTEGER NULL;
        """,
        // 11: document lifecycle. origin is what identifies a document's source in its knowledge base (the file name,
        // or the URL it was fetched from): uploading it again replaces the document. replaces names the ready version a
        // queued one will replace once it is ready; renamed keeps a title given by hand over the parsed one.
        """
        ALTER TABLE documents ADD COLUMN origin TEXT NULL;
        ALTER TABLE documents ADD COLUMN replaces TEXT NULL;
        ALTER TABLE documents ADD COLUMN renamed INTEGER NOT NULL DEFAULT 0;
        UPDATE documents SET origin = source;
        CREATE INDEX documents_origin ON documents(kb_id, origin);
        """,
        // 12: apps (one immutable definition per version, one version published), their conversations, the answers
        // they gave (what feedback refers to, by request id), feedback, per-workspace compliance rules; and the usage
        // ledger's attribution to an app, its version, the end user and the app request a model call was made for
        """
        CREATE TABLE apps (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL,
            slug TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            latest_version INTEGER NOT NULL,
            published_version INTEGER NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (workspace_id, slug));
        CREATE TABLE app_versions (
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            definition TEXT NOT NULL,
            note TEXT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (app_id, version));
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            workspace_id TEXT NOT NULL,
            end_user TEXT NOT NULL,
            title TEXT NOT NULL,
            messages INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL);
        CREATE INDEX conversations_app_user ON conversations(app_id, end_user, updated_at);
        CREATE TABLE conversation_messages (
            conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            request_id TEXT NULL,
            app_version INTEGER NULL,
            citations TEXT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (conversation_id, seq));
        CREATE TABLE app_answers (
            request_id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            app_version INTEGER NOT NULL,
            workspace_id TEXT NOT NULL,
            key_id TEXT NOT NULL,
            end_user TEXT NOT NULL,
            conversation_id TEXT NULL,
            question TEXT NOT NULL,
            answer TEXT NOT NULL,
            citations TEXT NULL,
            at INTEGER NOT NULL);
        CREATE TABLE app_feedback (
            request_id TEXT PRIMARY KEY REFERENCES app_answers(request_id) ON DELETE CASCADE,
            app_id TEXT NOT NULL,
            app_version INTEGER NOT NULL,
            workspace_id TEXT NOT NULL,
            end_user TEXT NOT NULL,
            rating TEXT NOT NULL,
            comment TEXT NULL,
            correction TEXT NULL,
            question TEXT NOT NULL,
            answer TEXT NOT NULL,
            at INTEGER NOT NULL);
        CREATE INDEX app_feedback_app ON app_feedback(app_id, at);
        CREATE TABLE compliance_rules (
            workspace_id TEXT PRIMARY KEY,
            rules TEXT NOT NULL,
            updated_at INTEGER NOT NULL);
        ALTER TABLE usage_records ADD COLUMN app_id TEXT NULL;
        ALTER TABLE usage_records ADD COLUMN app_version INTEGER NULL;
        ALTER TABLE usage_records ADD COLUMN end_user TEXT NULL;
        ALTER TABLE usage_records ADD COLUMN parent_request_id TEXT NULL;
        CREATE INDEX usage_app_at ON usage_records(app_id, at) WHERE app_id IS NOT NULL;
        """,
        // 13: the assistant: tool sources (OpenAPI imports and MCP servers; a credential encrypted), runs with the state a
        // paused run resumes from, their conversation with the model (appended, never rewritten) and their step trace, when each schedule last fired, and the ledger's attribution to a run
        """
        CREATE TABLE tool_sources (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            definition TEXT NOT NULL,
            tools TEXT NOT NULL,
            credential BLOB NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (workspace_id, name));
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            app_version INTEGER NOT NULL,
            workspace_id TEXT NOT NULL,
            key_id TEXT NOT NULL,
            origin TEXT NOT NULL,
            schedule TEXT NULL,
            status TEXT NOT NULL,
            input TEXT NOT NULL,
            output TEXT NULL,
            error TEXT NULL,
            state TEXT NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            cost_nanos INTEGER NOT NULL,
            currency TEXT NULL,
            steps INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            ended_at INTEGER NULL);
        CREATE INDEX runs_app ON runs(app_id, created_at);
        CREATE INDEX runs_workspace_status ON runs(workspace_id, status, created_at);
        CREATE TABLE run_steps (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NULL,
            status TEXT NOT NULL,
            input TEXT NULL,
            output TEXT NULL,
            error TEXT NULL,
            duration_ms INTEGER NOT NULL,
            cost_nanos INTEGER NOT NULL,
            request_id TEXT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (run_id, seq));
        CREATE TABLE run_messages (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            message TEXT NOT NULL,
            PRIMARY KEY (run_id, seq));
        CREATE TABLE schedule_state (
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            schedule TEXT NOT NULL,
            last_fired_at INTEGER NOT NULL,
            PRIMARY KEY (app_id, schedule));
        ALTER TABLE usage_records ADD COLUMN run_id TEXT NULL;
        CREATE INDEX usage_run ON usage_records(run_id) WHERE run_id IS NOT NULL;
        """,
        // 14: evaluations: sets with their versions (a version's items never change), runs, one stored result per finished
        // item (so a run resumes after a restart with the items not yet stored), and the ledger's attribution to a run
        """
        CREATE TABLE evaluation_sets (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL,
            name TEXT NOT NULL,
            latest_version INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL);
        CREATE INDEX evaluation_sets_workspace ON evaluation_sets(workspace_id, created_at);
        CREATE TABLE evaluation_set_versions (
            set_id TEXT NOT NULL REFERENCES evaluation_sets(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            items TEXT NOT NULL,
            item_count INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (set_id, version));
        CREATE TABLE evaluation_runs (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL,
            set_id TEXT NOT NULL,
            set_version INTEGER NOT NULL,
            target TEXT NOT NULL,
            app_id TEXT NULL,
            judge TEXT NULL,
            concurrency INTEGER NOT NULL,
            max_cost_nanos INTEGER NULL,
            status TEXT NOT NULL,
            reason TEXT NULL,
            item_count INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            ended_at INTEGER NULL);
        CREATE INDEX evaluation_runs_workspace ON evaluation_runs(workspace_id, created_at);
        CREATE INDEX evaluation_runs_status ON evaluation_runs(status);
        CREATE TABLE evaluation_run_items (
            run_id TEXT NOT NULL REFERENCES evaluation_runs(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            result TEXT NOT NULL,
            cost_nanos INTEGER NOT NULL,
            judge_cost_nanos INTEGER NOT NULL,
            PRIMARY KEY (run_id, idx));
        ALTER TABLE usage_records ADD COLUMN evaluation_run_id TEXT NULL;
        CREATE INDEX usage_evaluation_run ON usage_records(evaluation_run_id) WHERE evaluation_run_id IS NOT NULL;
        """,
        // 15: pilots: the pilot, its current scope, change requests, effort, alerts raised once per threshold, and sign-offs.
        // Scope items and changes are JSON documents keyed for the lookups made; amounts inside are decimal text, exact.
        """
        CREATE TABLE pilots (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL,
            data TEXT NOT NULL,
            frozen_at INTEGER NULL,
            created_at INTEGER NOT NULL);
        CREATE INDEX pilots_workspace ON pilots(workspace_id, created_at);
        CREATE TABLE pilot_scope (
            id TEXT PRIMARY KEY,
            pilot_id TEXT NOT NULL REFERENCES pilots(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            data TEXT NOT NULL);
        CREATE INDEX pilot_scope_pilot ON pilot_scope(pilot_id, seq);
        CREATE TABLE pilot_changes (
            id TEXT PRIMARY KEY,
            pilot_id TEXT NOT NULL REFERENCES pilots(id) ON DELETE CASCADE,
            status TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at INTEGER NOT NULL);
        CREATE INDEX pilot_changes_pilot ON pilot_changes(pilot_id, created_at);
        CREATE TABLE pilot_effort (
            id TEXT PRIMARY KEY,
            pilot_id TEXT NOT NULL REFERENCES pilots(id) ON DELETE CASCADE,
            data TEXT NOT NULL,
            created_at INTEGER NOT NULL);
        CREATE INDEX pilot_effort_pilot ON pilot_effort(pilot_id, created_at);
        CREATE TABLE pilot_alerts (
            pilot_id TEXT NOT NULL REFERENCES pilots(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            threshold TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (pilot_id, kind, threshold));
        CREATE TABLE pilot_signoffs (
            pilot_id TEXT NOT NULL REFERENCES pilots(id) ON DELETE CASCADE,
            side TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (pilot_id, side));
        """,
        // 16: a pilot's bake-offs (the runs it compares; their cost is in its ledger).
        """
        CREATE TABLE pilot_bakeoffs (
            id TEXT PRIMARY KEY,
            pilot_id TEXT NOT NULL REFERENCES pilots(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL);
        CREATE INDEX pilot_bakeoffs_pilot ON pilot_bakeoffs (pilot_id, created_at);
        """,
        // 17: usage summed per UTC day, key, app, evaluation run, model and currency, kept by a trigger in the insert's own statement (the
        // ledger is append-only), so a pilot's ledger reads a row per day and model instead of every record of its period.
        // Nullable columns are stored as '' because a NULL in a primary key never conflicts, which would add a row per record.
        """
        CREATE TABLE usage_daily (
            workspace_id TEXT NOT NULL,
            day INTEGER NOT NULL,
            key_id TEXT NOT NULL,
            app_id TEXT NOT NULL,
            evaluation_run_id TEXT NOT NULL,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            vendor_model TEXT NOT NULL,
            currency TEXT NOT NULL,
            requests INTEGER NOT NULL,
            cost_nanos INTEGER NOT NULL,
            PRIMARY KEY (workspace_id, day, key_id, app_id, evaluation_run_id, model, provider, vendor_model, currency)) WITHOUT ROWID;
        INSERT INTO usage_daily
            SELECT workspace_id, at / 86400000, key_id, COALESCE(app_id, ''), COALESCE(evaluation_run_id, ''), model, COALESCE(provider, ''), COALESCE(vendor_model, ''),
                COALESCE(currency, ''), COUNT(*), SUM(cost_nanos)
            FROM usage_records GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
        CREATE TRIGGER usage_daily_add AFTER INSERT ON usage_records BEGIN
            INSERT INTO usage_daily VALUES (NEW.workspace_id, NEW.at / 86400000, NEW.key_id, COALESCE(NEW.app_id, ''), COALESCE(NEW.evaluation_run_id, ''), NEW.model,
                COALESCE(NEW.provider, ''), COALESCE(NEW.vendor_model, ''), COALESCE(NEW.currency, ''), 1, NEW.cost_nanos)
            ON CONFLICT DO UPDATE SET requests = requests + 1, cost_nanos = cost_nanos + excluded.cost_nanos;
        END;
        """,
        // 18: speech and OCR requests are metered in their own units (seconds of audio, characters, pages), kept in
        // thousandths so that sums stay exact integers.
        """
        ALTER TABLE usage_records ADD COLUMN units_milli INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE usage_records ADD COLUMN unit TEXT NULL;
        """,
        // 19: a knowledge base chooses its OCR route (scans, images) and its transcription route (audio).
        """
        ALTER TABLE knowledge_bases ADD COLUMN ocr_model TEXT NULL;
        ALTER TABLE knowledge_bases ADD COLUMN transcription_model TEXT NULL;
        """,
        // 20: people: users, their workspace roles, sessions, personal tokens and invitations (secrets only as hashes).
        """
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NULL,
            password_hash TEXT NULL,
            instance_admin INTEGER NOT NULL DEFAULT 0,
            disabled INTEGER NOT NULL DEFAULT 0,
            failed_count INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER NULL,
            created_at INTEGER NOT NULL);
        CREATE TABLE memberships (
            user_id TEXT NOT NULL,
            workspace_id TEXT NOT NULL,
            role TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (user_id, workspace_id)) WITHOUT ROWID;
        CREATE INDEX memberships_workspace ON memberships(workspace_id);
        CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL);
        CREATE INDEX sessions_user ON sessions(user_id);
        CREATE TABLE personal_tokens (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            name TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            display_prefix TEXT NOT NULL,
            workspace_id TEXT NULL,
            expires_at INTEGER NULL,
            revoked_at INTEGER NULL,
            created_at INTEGER NOT NULL);
        CREATE INDEX personal_tokens_user ON personal_tokens(user_id);
        CREATE TABLE invitations (
            token_hash TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER NULL,
            created_at INTEGER NOT NULL);
        """,
    ];

    public static async Task ApplyAsync(SqliteConnection connection, CancellationToken ct)
    {
        var current = await connection.ExecuteScalarAsync<long>("PRAGMA user_version;");
        for (var i = (int)current; i < Steps.Length; i++)
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            await connection.ExecuteAsync(Steps[i], transaction: tx);
            // PRAGMA does not take parameters; the value is our own loop counter.
            await connection.ExecuteAsync($"PRAGMA user_version={i + 1};", transaction: tx);
            await tx.CommitAsync(ct);
        }
    }
}
