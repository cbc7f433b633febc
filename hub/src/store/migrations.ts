import { ATTENDANCE_MIGRATION } from '../attendance/schema.ts';

/**
 * Schema history, oldest first. Step n brings the database to `user_version` n; a released step is never
 * edited, a change is a new step at the end.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE gateways (
    id TEXT PRIMARY KEY,
    name TEXT,
    password_hash TEXT NOT NULL,
    online INTEGER NOT NULL DEFAULT 0,
    last_seen INTEGER,
    last_status TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    gateway TEXT NOT NULL REFERENCES gateways(id),
    kind TEXT NOT NULL,
    driver TEXT NOT NULL,
    name TEXT,
    building TEXT,
    zone TEXT,
    location TEXT,
    medium TEXT,
    online INTEGER NOT NULL DEFAULT 0,
    last_seen INTEGER,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX devices_gateway ON devices(gateway);
  -- n is the arrival order (an INTEGER PRIMARY KEY survives VACUUM, a bare rowid may not).
  CREATE TABLE events (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    seq INTEGER NOT NULL,
    gateway TEXT NOT NULL,
    device TEXT NOT NULL,
    type TEXT NOT NULL,
    ts INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    data TEXT NOT NULL
  );
  -- Each index implicitly ends in n, so "newest first" pages walk them in order.
  CREATE INDEX events_device ON events(device);
  CREATE INDEX events_gateway ON events(gateway);
  CREATE INDEX events_type ON events(type);
  CREATE INDEX events_ts ON events(ts);
  CREATE TABLE telemetry_ids (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX telemetry_ids_received ON telemetry_ids(received_at);
  CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    gateway TEXT,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    record_id TEXT,
    raw TEXT NOT NULL
  );
  CREATE TABLE users (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
  );
  `,
  // 2: alarms (hub/src/alarms). open_key is set while an alarm is not resolved: one open alarm per type+device(+credential).
  `
  CREATE TABLE alarms (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    rule TEXT NOT NULL,
    type TEXT NOT NULL,
    priority TEXT NOT NULL,
    state TEXT NOT NULL,
    latching INTEGER NOT NULL,
    condition_cleared INTEGER NOT NULL DEFAULT 0,
    device TEXT NOT NULL,
    gateway TEXT,
    building TEXT,
    zone TEXT,
    credential TEXT,
    title TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    ack_note TEXT,
    resolved_at INTEGER,
    resolved_by TEXT,
    resolve_note TEXT,
    escalated_at INTEGER,
    escalated_to TEXT,
    open_key TEXT UNIQUE
  );
  CREATE INDEX alarms_state ON alarms(state);
  CREATE INDEX alarms_device ON alarms(device);
  CREATE INDEX alarms_first_at ON alarms(first_at);
  CREATE TABLE alarm_timeline (
    id INTEGER PRIMARY KEY,
    alarm TEXT NOT NULL,
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    note TEXT,
    event_id TEXT,
    detail TEXT
  );
  CREATE INDEX alarm_timeline_alarm ON alarm_timeline(alarm);
  `,
  // faces (hub/src/faces): persons, consent, encrypted templates (no photos), gateway scopes and per-gateway
  // gallery versions for sync, operator corrections.
  `
  CREATE TABLE face_persons (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '[]',
    dorms TEXT NOT NULL DEFAULT '[]',
    buildings TEXT NOT NULL DEFAULT '[]',
    credentials TEXT NOT NULL DEFAULT '[]',
    watchlist INTEGER NOT NULL DEFAULT 0,
    watchlist_note TEXT,
    left_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE face_consents (
    id INTEGER PRIMARY KEY,
    person TEXT NOT NULL,
    given_by TEXT NOT NULL,
    given_at INTEGER NOT NULL,
    scope TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    withdrawn_at INTEGER,
    withdrawn_by TEXT
  );
  CREATE INDEX face_consents_person ON face_consents(person);
  CREATE TABLE face_templates (
    id INTEGER PRIMARY KEY,
    person TEXT NOT NULL,
    model TEXT NOT NULL,
    iv BLOB NOT NULL,
    tag BLOB NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX face_templates_person ON face_templates(person);
  CREATE TABLE face_thresholds (
    person TEXT NOT NULL,
    device TEXT NOT NULL,
    threshold REAL NOT NULL,
    PRIMARY KEY (person, device)
  );
  CREATE TABLE face_corrections (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    person TEXT NOT NULL,
    device TEXT NOT NULL,
    score REAL,
    threshold REAL NOT NULL,
    actor TEXT NOT NULL,
    note TEXT,
    ts INTEGER NOT NULL
  );
  CREATE TABLE face_gateway_scopes (
    gateway TEXT PRIMARY KEY,
    dorms TEXT NOT NULL DEFAULT '[]',
    buildings TEXT NOT NULL DEFAULT '[]',
    watchlist INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE face_gallery_log (
    gateway TEXT NOT NULL,
    version INTEGER NOT NULL,
    person TEXT NOT NULL,
    PRIMARY KEY (gateway, version)
  );
  CREATE TABLE face_gallery_members (
    gateway TEXT NOT NULL,
    person TEXT NOT NULL,
    PRIMARY KEY (gateway, person)
  );
  CREATE TABLE face_gallery_state (
    gateway TEXT PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 0,
    acked INTEGER,
    acked_at INTEGER
  );
  `,
  `
  CREATE TABLE energy_schedule_plans (
    id TEXT PRIMARY KEY,
    plan TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
  );
  `,
  // dorm attendance (hub/src/attendance): roster, check-ins, outages, leave, reported nights, settings.
  ATTENDANCE_MIGRATION,
  // energy: facilities' "not an anomaly" feedback (hub/src/energy/feedback.ts).
  `
  CREATE TABLE energy_anomaly_feedback (
    id TEXT PRIMARY KEY,
    meter TEXT NOT NULL,
    kind TEXT,
    from_ts INTEGER NOT NULL,
    to_ts INTEGER NOT NULL,
    note TEXT,
    by_user TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX energy_anomaly_feedback_meter ON energy_anomaly_feedback (meter, at);
  `,
  // trust (issue 9): users get scopes, a disabled flag, a session version (revocation) and a lockout; the audit
  // trail becomes a hash chain, append-only by triggers except while the retention job holds the gate.
  `
  ALTER TABLE users ADD COLUMN scope TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE users ADD COLUMN locked_until INTEGER;
  ALTER TABLE audit ADD COLUMN prev_hash TEXT;
  ALTER TABLE audit ADD COLUMN hash TEXT;
  CREATE TABLE audit_gate (id INTEGER PRIMARY KEY CHECK (id = 1), open INTEGER NOT NULL DEFAULT 0);
  INSERT INTO audit_gate (id, open) VALUES (1, 0);
  CREATE TABLE audit_anchor (id INTEGER PRIMARY KEY CHECK (id = 1), last_id INTEGER NOT NULL, hash TEXT NOT NULL);
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit WHEN (SELECT open FROM audit_gate WHERE id = 1) = 0
    BEGIN SELECT RAISE(ABORT, 'audit is append-only (only the retention job deletes)'); END;
  `,
  // trust (issue 9, session 3): failed logins survive a restart (account lockout); each sealed face template names
  // the key it was sealed with (NULL: the legacy <dataDir>/faces.key, migrated at the faces module's start).
  `
  CREATE TABLE login_failures (username TEXT NOT NULL, at INTEGER NOT NULL);
  CREATE INDEX login_failures_user ON login_failures (username, at);
  ALTER TABLE face_templates ADD COLUMN key_id TEXT;
  `,
];
