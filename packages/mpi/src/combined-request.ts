import { Request } from './request.js';

/**
 * One request over several operations (isendrecv's send and receive): complete once every part
 * is, with the status of the part that speaks for it (the receive) and the first part's error if
 * any failed. Observing it charges the parts to the program clock in order, as waitAll would.
 */
export class CombinedRequest extends Request {
  constructor(
    private readonly parts: readonly Request[],
    private readonly speaker: Request,
    private readonly onDone: () => void = () => {},
  ) {
    super(speaker.progress, speaker.op, speaker.peer, speaker.tag);
    this.onObserve = () => {
      for (const p of this.parts) p.charge();
    };
  }

  override get completed(): boolean {
    if (!super.completed && this.parts.every((p) => p.completed)) {
      const ready = Math.max(...this.parts.map((p) => p.readyTime));
      const failed = this.parts.find((p) => p.errorValue !== undefined);
      this.onDone();
      if (failed) this.fail(failed.errorValue!, ready, this.speaker.statusValue);
      else this.complete(this.speaker.statusValue!, ready);
    }
    return super.completed;
  }
}
