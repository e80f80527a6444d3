-- The API shape of a workflow execution (API.md §7), shared by every query that returns one.
CREATE FUNCTION pixelcraft_workflow_json(w workflow_executions) RETURNS jsonb
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
    'started_at', pixelcraft_ts(w.started_at),
    'completed_at', pixelcraft_ts(w.completed_at),
    'execution_time_ms', CASE WHEN w.completed_at IS NULL THEN NULL
      ELSE round(extract(epoch FROM (w.completed_at - w.started_at)) * 1000) END,
    'error_message', w.error_message)
$$;

CREATE INDEX workflow_executions_lease_idx ON workflow_executions (current_state, lease_expires_at);
CREATE INDEX shared_memory_scope_idx ON shared_memory (scope, scope_id);
