-- pgbench: the single-row insert the issue compares against (one transaction each).
INSERT INTO pgbench_leads (name, email, message, source) VALUES ('Zoe', 'zoe@example.com', 'We need a new shop.', 'contact_form');
