// The conversation process: what callers may say to it and read from it (definitions), how it
// moves between the AI and people (transitions), the workflow itself, and how to start it.
export * from './definitions';
export { conversationStart } from './start';
export { conversation } from './workflow';
