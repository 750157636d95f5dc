import { findOrBuildTemporalCli } from './lib/temporal-cli';

// `npm run temporal`: print the path of the pinned Temporal CLI, building it first if needed.
try {
  console.log(findOrBuildTemporalCli((m) => console.error(m)));
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
