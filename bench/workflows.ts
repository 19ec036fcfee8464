/**
 * What the benchmark worker bundles: every production workflow, unchanged, plus the baseline. One bundle and one
 * worker serve both sides of a comparison, so they run on the same worker settings.
 */
export * from '../workflows';
export { benchBaseline } from './baseline-workflow';
