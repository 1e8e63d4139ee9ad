/** A deadline in a DeadlineList: `expire` is called once it has come, unless it was removed before. */
export interface Deadline {
  /** When it comes, on performance.now()'s clock; set by `DeadlineList.add`. */
  at: number;
  expire(): void;
  previous: Deadline | undefined;
  next: Deadline | undefined;
}

/**
 * Deadlines of one duration, served by one timer. Every deadline of a list comes `durationMs`
 * after it was added, so the order they were added in is the order they come in: one timer, set
 * for the first, serves them all, instead of a Node timer set and cleared for each. Node keeps its
 * timers in one list per duration, and when no other timer of that duration is pending, each set
 * and clear creates and removes that list: more than the rest of what a deadline costs on the
 * request path (bench/README.md, "Where the time goes"). A deadline removed before it comes is
 * unlinked. The timer stays set when no deadline is left, but unreferenced, so that it does not
 * keep the process alive; the next deadline references it again.
 */
export class DeadlineList {
  private first: Deadline | undefined;
  private last: Deadline | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerReferenced = false;

  constructor(private readonly durationMs: number) {}

  add(deadline: Deadline): void {
    deadline.at = performance.now() + this.durationMs;
    deadline.previous = this.last;
    deadline.next = undefined;
    if (this.last) this.last.next = deadline;
    else this.first = deadline;
    this.last = deadline;
    if (!this.timer) {
      this.timer = setTimeout(() => this.fire(), this.durationMs);
      this.timerReferenced = true;
    } else if (!this.timerReferenced) {
      this.timer.ref();
      this.timerReferenced = true;
    }
  }

  /** Takes the deadline out; nothing happens if it has come already or was never added. */
  remove(deadline: Deadline): void {
    if (deadline.previous) deadline.previous.next = deadline.next;
    else if (this.first === deadline) this.first = deadline.next;
    else return;
    if (deadline.next) deadline.next.previous = deadline.previous;
    else this.last = deadline.previous;
    deadline.previous = deadline.next = undefined;
    if (!this.first && this.timer && this.timerReferenced) {
      this.timer.unref();
      this.timerReferenced = false;
    }
  }

  /** The timer went off: every deadline that has come expires, and the timer is set again for the next. */
  private fire(): void {
    this.timer = undefined;
    this.timerReferenced = false;
    const now = performance.now();
    let due = this.first;
    // Node's timers run on the event loop's clock, which can be up to a millisecond behind this one.
    while (due && due.at <= now + 1) {
      const next = due.next;
      this.remove(due);
      due.expire();
      due = next;
    }
    // Deadlines added meanwhile (by an expire) may have set a timer for their own, later time.
    if (this.timer) clearTimeout(this.timer);
    this.timer = this.first ? setTimeout(() => this.fire(), Math.max(1, this.first.at - now)) : undefined;
    this.timerReferenced = this.timer !== undefined;
  }
}
