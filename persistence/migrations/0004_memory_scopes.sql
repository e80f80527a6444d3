-- Shared-memory scopes v1.1 (API.md §7): `global` is global to the owner of the workflow
-- (scope_id = the owner's sub), and `system` is one system-wide scope (scope_id '') that every
-- run reads and only admin-owned runs write, hence the owner's role on each execution.
ALTER TABLE workflow_executions ADD COLUMN owner_admin boolean NOT NULL DEFAULT false;

ALTER TABLE shared_memory DROP CONSTRAINT shared_memory_scope_check;
ALTER TABLE shared_memory ADD CONSTRAINT shared_memory_scope_check
  CHECK (scope IN ('conversation', 'workflow', 'global', 'system'));

-- Keys written as `global` before v1.1 were shared by every owner (scope_id ''): each now
-- belongs to the owner of the execution that wrote it. Keys without such an execution stay
-- under '' and no owner reads them (an owner's sub is never empty).
UPDATE shared_memory m SET scope_id = w.owner_id
  FROM workflow_executions w
  WHERE m.scope = 'global' AND m.scope_id = '' AND w.id = m.workflow_execution_id
    AND w.owner_id IS NOT NULL;
