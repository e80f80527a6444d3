-- API.md §7 (v1.1): a WorkflowExecution carries "node", the name of the node running it (the
-- holder of an unexpired lease, whose owner is `name:incarnation`), or null. Still one SQL
-- expression, STABLE, so PostgreSQL inlines it (see 0010).
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
    'error_message', w.error_message,
    'node', CASE WHEN w.lease_owner IS NOT NULL AND w.lease_expires_at > now()
      THEN split_part(w.lease_owner, ':', 1) END)
$$;
