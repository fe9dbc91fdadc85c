// A workshop as the instructor room needs it (ending the workshop itself stays with
// `svclab workshop end`). The workshop model keeps one deadline for the
// whole room, so extending one learner is refused with the reason (extend everyone instead).
import { RunnerError } from '../errors.ts';
import type { Workshop } from '../workshop/workshop.ts';
import type { RoomWorkshop, Target } from './room.ts';

export function workshopRoom(workshop: Workshop): RoomWorkshop {
  return {
    get labs() { return workshop.labs; },
    async names() {
      return new Map((await workshop.learners()).map((l) => [l.id, l.name]));
    },
    expiresAt: () => workshop.times().expiresAt,
    async extend(target: Target, minutes: number) {
      if (!('all' in target)) {
        throw new RunnerError('BAD_REQUEST', {
          message: 'This workshop has one end time for everyone, so one learner cannot be given more time alone.',
          hint: 'Extend everyone ({"all": true}); the learner page warns each learner 5 minutes before the end.',
        });
      }
      await workshop.extend(minutes * 60_000);
      return (await workshop.learners()).length;
    },
  };
}
