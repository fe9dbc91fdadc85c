// A workshop as the instructor room needs it (ending the workshop itself stays with
// `svclab workshop end`). Extending everyone moves the workshop's end; extending one learner
// gives that learner their own, later end (the room's stays).
import type { Workshop } from '../workshop/workshop.ts';
import type { RoomWorkshop, Target } from './room.ts';

export function workshopRoom(workshop: Workshop): RoomWorkshop {
  return {
    get labs() { return workshop.labs; },
    async names() {
      return new Map((await workshop.learners()).map((l) => [l.id, l.name]));
    },
    expiresAt: (learner: string) => workshop.times(learner).expiresAt,
    async extend(target: Target, minutes: number) {
      if (!('all' in target)) {
        const l = await workshop.learnerByKey(target.learner);
        await workshop.extendLearner(l.id, minutes * 60_000);
        return 1;
      }
      await workshop.extend(minutes * 60_000);
      return (await workshop.learners()).length;
    },
  };
}
