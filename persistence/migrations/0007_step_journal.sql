-- The step journal (API.md §13 v1.1): the calls made inside a workflow step, recorded before
-- and after they run, so a step that runs again never repeats one that ran.
CREATE TABLE step_journal (
  workflow_execution_id uuid NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
  step        int NOT NULL,
  agent       text NOT NULL,
  call_key    text NOT NULL,
  call        int NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('model', 'tool')),
  name        text NOT NULL,
  request     jsonb NOT NULL DEFAULT '{}'::jsonb,
  status      text NOT NULL DEFAULT 'started'
              CHECK (status IN ('started', 'done', 'failed', 'outcome_unknown')),
  result      jsonb,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  PRIMARY KEY (workflow_execution_id, step, agent, call_key)
);
CREATE INDEX step_journal_order ON step_journal (workflow_execution_id, step, call);
