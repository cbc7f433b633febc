/** The attendance tables (one migration step in hub/src/store/migrations.ts). */
export const ATTENDANCE_MIGRATION = `
  CREATE TABLE attendance_students (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    exempt INTEGER NOT NULL DEFAULT 0,
    left_on TEXT,
    updated_at INTEGER NOT NULL
  );
  -- to_night is exclusive: the first night in the next room (or after leaving).
  CREATE TABLE attendance_placements (
    id INTEGER PRIMARY KEY,
    student TEXT NOT NULL,
    building TEXT NOT NULL,
    floor TEXT NOT NULL,
    room TEXT NOT NULL,
    from_night TEXT NOT NULL,
    to_night TEXT
  );
  CREATE INDEX attendance_placements_student ON attendance_placements(student);
  CREATE TABLE attendance_crossings (
    event_id TEXT PRIMARY KEY,
    student TEXT NOT NULL,
    ts INTEGER NOT NULL,
    direction TEXT NOT NULL,
    device TEXT NOT NULL,
    gateway TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE INDEX attendance_crossings_ts ON attendance_crossings(ts);
  CREATE INDEX attendance_crossings_student ON attendance_crossings(student, ts);
  CREATE TABLE attendance_points (device TEXT PRIMARY KEY, gateway TEXT NOT NULL, building TEXT);
  CREATE TABLE attendance_outages (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    from_ts INTEGER NOT NULL,
    to_ts INTEGER
  );
  CREATE INDEX attendance_outages_target ON attendance_outages(target, from_ts);
  CREATE TABLE attendance_leaves (
    id INTEGER PRIMARY KEY,
    student TEXT NOT NULL,
    from_night TEXT NOT NULL,
    to_night TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    decided_by TEXT,
    decided_at INTEGER
  );
  CREATE INDEX attendance_leaves_student ON attendance_leaves(student);
  -- A night as reported at curfew + N; revision and corrected_at change when a late check-in corrects it.
  CREATE TABLE attendance_nights (
    student TEXT NOT NULL,
    night TEXT NOT NULL,
    name TEXT NOT NULL,
    building TEXT NOT NULL,
    floor TEXT NOT NULL,
    room TEXT NOT NULL,
    state TEXT NOT NULL,
    at INTEGER,
    out_again INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    revision INTEGER NOT NULL DEFAULT 0,
    reported_at INTEGER NOT NULL,
    corrected_at INTEGER,
    previous_state TEXT,
    PRIMARY KEY (student, night)
  ) WITHOUT ROWID;
  CREATE INDEX attendance_nights_night ON attendance_nights(night, building);
  CREATE TABLE attendance_reports (night TEXT NOT NULL, building TEXT NOT NULL, reported_at INTEGER NOT NULL, PRIMARY KEY (night, building)) WITHOUT ROWID;
  CREATE TABLE attendance_settings (id INTEGER PRIMARY KEY CHECK (id = 1), settings TEXT NOT NULL, updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL);
`;
