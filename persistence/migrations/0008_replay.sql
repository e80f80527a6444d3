-- v1.1 (API.md §13): replays and forks. A replayed step is answered by its source execution's
-- journal and approvals instead of the model and vendors: every step of a replay, and the steps
-- before `replay_live_from` of a fork. Set by the server only (never from a request body).
ALTER TABLE workflow_executions
  ADD COLUMN replay_source uuid,
  ADD COLUMN replay_live_from int CHECK (replay_live_from IS NULL OR replay_live_from >= 1);

-- `metadata` is part of the API document now (`replay_of`, `fork_of` and `from_step` of a
-- replay or fork, and whatever the request gave).
CREATE OR REPLACE FUNCTION pixelcraft_workflow_json(w workflow_executions) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_object(
    'workflow_id', w.id,
    'conversation_id', w.conversation_id,
    'workflow_type', w.workflow_type,
    'current_state', w.current_state,
    'current_step', w.current_step,
    'participating_agents', w.participating_agents,
    'execution_path', w.execution_path,
    'results', w.results,
    'metadata', w.metadata,
    'started_at', pixelcraft_ts(w.started_at),
    'completed_at', pixelcraft_ts(w.completed_at),
    'execution_time_ms', CASE WHEN w.completed_at IS NULL THEN NULL
      ELSE round(extract(epoch FROM (w.completed_at - w.started_at)) * 1000) END,
    'error_message', w.error_message)
$$;
