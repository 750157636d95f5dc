import { DefaultFailureConverter } from '@temporalio/common';

// Loaded by path (the workflow bundle and the worker): failure messages and stack traces travel
// as an encoded payload, so the codec seals them with the rest.
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
