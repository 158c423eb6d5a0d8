import type { Scenario } from './scenario';
import { activityIds } from './scenarios/activityIds';
import { cost } from './scenarios/cost';
import { faults } from './scenarios/faults';
import { hog } from './scenarios/hog';
import { jitter } from './scenarios/jitter';
import { limit } from './scenarios/limit';
import { manyTenants } from './scenarios/manyTenants';
import { passes } from './scenarios/passes';
import { personalChats } from './scenarios/personalChats';
import { queued } from './scenarios/queued';
import { single } from './scenarios/single';
import { tenants } from './scenarios/tenants';

/**
 * Every scenario, in the order `npm run bench` (no names) runs them.
 * A new scenario: one file in scenarios/ exporting a Scenario, and one line here.
 */
export const scenarios: readonly Scenario[] = [
  single,
  jitter,
  hog,
  faults,
  limit,
  tenants,
  manyTenants,
  queued,
  activityIds,
  passes,
  cost,
  personalChats,
];
