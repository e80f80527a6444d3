-- PixelCraft core schema (Supabase-compatible: uuid ids, jsonb, timestamptz, check constraints).
-- Owners are JWT `sub` strings (text): Supabase's are uuids, other issuers' need not be.

CREATE TABLE leads (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  email text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
  company text CHECK (company IS NULL OR char_length(company) <= 200),
  phone text CHECK (phone IS NULL OR char_length(phone) <= 40),
  message text NOT NULL CHECK (char_length(message) BETWEEN 1 AND 10000),
  services_interested jsonb NOT NULL DEFAULT '[]'::jsonb
    CHECK (jsonb_typeof(services_interested) = 'array'),
  budget_range text CHECK (budget_range IN ('0-1000', '1000-5000', '5000-10000', '10000-25000', '25000+')),
  timeline text CHECK (timeline IN ('immediate', '1-3_months', '3-6_months', '6-12_months', 'unknown')),
  source text NOT NULL CHECK (source IN ('contact_form', 'strategy_session', 'partnership', 'chat', 'other')),
  status text NOT NULL DEFAULT 'new'
    CHECK (status IN ('new', 'contacted', 'qualified', 'converted', 'lost')),
  lead_score integer CHECK (lead_score BETWEEN 0 AND 100),
  assigned_to text,
  owner_id text,
  notes jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(notes) = 'array'),
  analysis jsonb,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leads_created_at_idx ON leads (created_at DESC, id DESC);
CREATE INDEX leads_status_idx ON leads (status);
CREATE INDEX leads_assigned_to_idx ON leads (assigned_to);
CREATE INDEX leads_lead_score_idx ON leads (lead_score);
CREATE INDEX leads_email_idx ON leads (lower(email));
CREATE INDEX leads_owner_idx ON leads (owner_id);

CREATE TABLE conversations (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,128}$'),
  owner_id text,
  agent_type text NOT NULL DEFAULT 'chat',
  title text,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX conversations_owner_idx ON conversations (owner_id, updated_at DESC);

CREATE TABLE messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
  content text NOT NULL,
  agent_type text,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  tokens_in integer,
  tokens_out integer,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, created_at, id);

CREATE TABLE workflow_executions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversation_id text REFERENCES conversations (id) ON DELETE SET NULL,
  workflow_type text NOT NULL
    CHECK (workflow_type IN ('sequential', 'multi_agent', 'conditional', 'collaborative', 'parallel')),
  current_state text NOT NULL DEFAULT 'pending'
    CHECK (current_state IN ('pending', 'running', 'paused', 'completed', 'failed', 'cancelled')),
  current_step integer NOT NULL DEFAULT 0,
  participating_agents jsonb NOT NULL DEFAULT '[]'::jsonb,
  workflow_config jsonb NOT NULL DEFAULT '{}'::jsonb,
  input_data jsonb NOT NULL DEFAULT '{}'::jsonb,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  execution_path jsonb NOT NULL DEFAULT '[]'::jsonb,
  results jsonb NOT NULL DEFAULT '{}'::jsonb,
  owner_id text,
  lease_owner text,
  lease_epoch bigint NOT NULL DEFAULT 0,
  lease_expires_at timestamptz,
  last_event_seq bigint NOT NULL DEFAULT 0,
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  error_message text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflow_executions_owner_idx ON workflow_executions (owner_id, started_at DESC);
CREATE INDEX workflow_executions_conversation_idx ON workflow_executions (conversation_id);
CREATE INDEX workflow_executions_state_idx ON workflow_executions (current_state);

-- Ordered events of a workflow (seq 1, 2, ...), for monitor replay with ?since=N.
CREATE TABLE workflow_events (
  workflow_execution_id uuid NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
  seq bigint NOT NULL CHECK (seq > 0),
  event_type text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_execution_id, seq)
);

CREATE TABLE agent_messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workflow_execution_id uuid NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
  from_agent text NOT NULL,
  to_agent text NOT NULL,
  message_type text NOT NULL CHECK (message_type IN ('request', 'response', 'notification', 'handoff')),
  content jsonb NOT NULL DEFAULT '{}'::jsonb,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'delivered', 'processed', 'failed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);
CREATE INDEX agent_messages_workflow_idx ON agent_messages (workflow_execution_id, created_at);

CREATE TABLE shared_memory (
  id bigserial PRIMARY KEY,
  key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 256),
  value jsonb NOT NULL,
  scope text NOT NULL CHECK (scope IN ('conversation', 'workflow', 'global')),
  conversation_id text,
  workflow_execution_id uuid REFERENCES workflow_executions (id) ON DELETE CASCADE,
  -- '' for global, else the conversation or workflow id: one key per (scope, scope_id).
  scope_id text NOT NULL DEFAULT '',
  version bigint NOT NULL DEFAULT 1 CHECK (version > 0),
  created_by_agent text,
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (scope, scope_id, key)
);
CREATE INDEX shared_memory_workflow_idx ON shared_memory (workflow_execution_id);

CREATE TABLE agent_logs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  agent_type text NOT NULL,
  action text NOT NULL,
  conversation_id text,
  workflow_execution_id uuid,
  input_data jsonb NOT NULL DEFAULT '{}'::jsonb,
  output_data jsonb NOT NULL DEFAULT '{}'::jsonb,
  execution_time_ms double precision NOT NULL DEFAULT 0,
  status text NOT NULL CHECK (status IN ('success', 'error', 'timeout', 'skipped')),
  error_message text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_logs_agent_idx ON agent_logs (agent_type, created_at DESC);
CREATE INDEX agent_logs_workflow_idx ON agent_logs (workflow_execution_id);

-- Idempotency-Key records: scope is the caller (owner or anonymous) plus the route.
CREATE TABLE idempotency_keys (
  scope text NOT NULL,
  key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  request_hash text NOT NULL,
  status_code integer,
  response_body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
