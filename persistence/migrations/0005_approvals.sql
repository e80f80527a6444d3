-- Approvals (API.md §12 v1.1): tool calls the policy held for a person, with the exact
-- arguments that run if approved. No foreign keys: an approval outlives a deleted conversation
-- and keeps its audit trail.
CREATE TABLE approvals (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  state           text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'approved', 'denied', 'expired')),
  tool            text NOT NULL,
  effect          text NOT NULL CHECK (effect IN ('read', 'write', 'send')),
  agent_type      text NOT NULL,
  arguments       jsonb NOT NULL,
  reason          text NOT NULL,
  workflow_execution_id text,
  conversation_id text,
  step            int,
  owner_id        text,
  dedupe_key      text UNIQUE,
  requested_at    timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  decided_at      timestamptz,
  decided_by      text,
  note            text,
  result          jsonb
);
CREATE INDEX approvals_requested ON approvals (requested_at DESC, id DESC);
CREATE INDEX approvals_pending ON approvals (expires_at) WHERE state = 'pending';
CREATE INDEX approvals_workflow ON approvals (workflow_execution_id)
  WHERE workflow_execution_id IS NOT NULL;

-- The state a reader sees: an undecided approval past its expiry is `expired`.
CREATE FUNCTION pixelcraft_approval_state(a approvals) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN a.state = 'pending' AND a.expires_at <= now() THEN 'expired' ELSE a.state END
$$;

-- Absent optional fields are null (a chat's approval has `"workflow_id": null`).
CREATE FUNCTION pixelcraft_approval_json(a approvals) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_object(
    'approval_id', a.id,
    'state', pixelcraft_approval_state(a),
    'tool', a.tool,
    'effect', a.effect,
    'agent_type', a.agent_type,
    'arguments', a.arguments,
    'reason', a.reason,
    'workflow_id', a.workflow_execution_id,
    'conversation_id', a.conversation_id,
    'step', a.step,
    'requested_at', pixelcraft_ts(a.requested_at),
    'expires_at', pixelcraft_ts(a.expires_at),
    'decided_at', pixelcraft_ts(coalesce(a.decided_at,
                    CASE WHEN a.state = 'pending' AND a.expires_at <= now() THEN a.expires_at END)),
    'decided_by', a.decided_by,
    'note', a.note,
    'result', a.result)
$$;
