-- v1.1 (API.md §14): cluster membership. Each process writes its row every second (its
-- heartbeat, with its load) and reads everyone's; a row not written for a while is a node that
-- died, froze or was cut off. `incarnation` is fresh per process: lease owners are
-- `name:incarnation`, so a restarted node never shares a lease with its zombie.
CREATE TABLE IF NOT EXISTS cluster_nodes (
  incarnation uuid PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('all', 'gateway', 'worker')),
  host text NOT NULL DEFAULT '',
  port int NOT NULL DEFAULT 0,
  wire_version int NOT NULL,
  load jsonb NOT NULL DEFAULT '{}'::jsonb,
  started_at timestamptz NOT NULL DEFAULT now(),
  seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cluster_nodes_seen_at ON cluster_nodes (seen_at);
-- Finding the executions a lost node held.
CREATE INDEX IF NOT EXISTS workflow_executions_lease_owner ON workflow_executions (lease_owner)
  WHERE lease_owner IS NOT NULL;
