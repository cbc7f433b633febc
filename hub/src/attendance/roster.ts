/** Students and where they live, with effective dates: a move closes one placement and opens the next. */
export interface Student {
  id: string;
  name: string;
  /** Not subject to curfew (e.g. a resident tutor, a medical exemption). */
  exempt: boolean;
  /** First night the student no longer lives in a dorm; null while resident. */
  leftOn: string | null;
}

export interface Place {
  building: string;
  floor: string;
  room: string;
}

export interface Placement extends Place {
  student: string;
  /** First night in this room. */
  from: string;
  /** First night no longer in this room (exclusive); null: still there. */
  to: string | null;
}

export const samePlace = (a: Place, b: Place): boolean => a.building === b.building && a.floor === b.floor && a.room === b.room;

/** An in-memory roster: answers "where did this student sleep on night D" and "who lived in building B". */
export class Roster {
  private readonly byStudent = new Map<string, Placement[]>();
  readonly students = new Map<string, Student>();

  constructor(students: Iterable<Student>, placements: Iterable<Placement>) {
    for (const s of students) this.students.set(s.id, s);
    for (const p of placements) {
      const list = this.byStudent.get(p.student) ?? [];
      list.push(p);
      this.byStudent.set(p.student, list);
    }
    for (const list of this.byStudent.values()) list.sort((a, b) => (a.from < b.from ? -1 : 1));
  }

  placementOn(student: string, night: string): Placement | null {
    const s = this.students.get(student);
    if (!s || (s.leftOn !== null && night >= s.leftOn)) return null;
    const list = this.byStudent.get(student);
    if (!list) return null;
    for (let i = list.length - 1; i >= 0; i--) {
      const p = list[i]!;
      if (p.from <= night && (p.to === null || night < p.to)) return p;
    }
    return null;
  }

  /** Current placement (the open one), whatever the date. */
  current(student: string): Placement | null {
    const list = this.byStudent.get(student);
    const s = this.students.get(student);
    if (!list || !s || s.leftOn !== null) return null;
    return list.find((p) => p.to === null) ?? null;
  }

  placements(student: string): readonly Placement[] {
    return this.byStudent.get(student) ?? [];
  }

  /** Students living in a dorm on a night, optionally only in some buildings. */
  residents(night: string, buildings?: ReadonlySet<string>): Array<{ student: Student; place: Placement }> {
    const out: Array<{ student: Student; place: Placement }> = [];
    for (const s of this.students.values()) {
      const p = this.placementOn(s.id, night);
      if (p && (!buildings || buildings.has(p.building))) out.push({ student: s, place: p });
    }
    return out;
  }
}
