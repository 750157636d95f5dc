export * from './definitions';
export { appointmentStart } from './start';
export { appointment, type AppointmentResult } from './workflow';
