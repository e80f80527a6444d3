-- v1.1 (API.md §7, §12): a workflow whose step waits for a person's decision on a tool call is
-- `awaiting_approval`; it is resumed after a restart like a running one.
ALTER TABLE workflow_executions DROP CONSTRAINT workflow_executions_current_state_check;
ALTER TABLE workflow_executions ADD CONSTRAINT workflow_executions_current_state_check
  CHECK (current_state IN ('pending', 'running', 'paused', 'awaiting_approval', 'completed',
                           'failed', 'cancelled'));
