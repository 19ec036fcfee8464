/** The directory contract on the lab domain. */
import { startTestLab, type TestLab } from '../support/runbook-env';
import { directoryContract } from './directory-contract';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
});
afterAll(async () => {
  await lab.close();
});

directoryContract(() => ({
  directory: lab.backend.directory,
  pinnedDc: 'dc1.lab.local',
  otherDc: 'dc2.lab.local',
  replicationBudgetMs: 5_000,
}));
