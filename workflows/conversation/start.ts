import { entitySearchAttributes } from '../../domain/search-attributes';
import type { WorkflowStart } from '../workflow-start';
import { conversationWorkflowId, type ConversationInput } from './definitions';
import { conversation } from './workflow';

// One running conversation per contact: a start for a contact that has one joins it (signal- or
// update-with-start), and after it closes the same id opens the next. (Beside the definitions,
// not among them: it needs the workflow function, which itself imports the definitions.)
export function conversationStart(input: ConversationInput): WorkflowStart<typeof conversation> {
  return {
    workflowType: conversation,
    taskQueue: 'main',
    workflowId: conversationWorkflowId(input.tenantId, input.contactId),
    args: [input],
    typedSearchAttributes: entitySearchAttributes(input.tenantId, 'contact', input.contactId),
  };
}
