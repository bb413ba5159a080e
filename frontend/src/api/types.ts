/** Short names for the API's shapes, from the generated schema. */
import type { components } from './schema';

type Schemas = components['schemas'];

export type Investigation = Schemas['InvestigationOut'];
export type Dataset = Schemas['DatasetOut'];
export type Datafile = Schemas['DatafileOut'];
export type Instrument = Schemas['InstrumentOut'];
export type User = Schemas['UserOut'];
export type Participant = Schemas['ParticipantOut'];
export type Sample = Schemas['SampleOut'];
export type Stats = Schemas['Stats'];
export type Facets = Schemas['Facets'];
export type FacetCount = Schemas['FacetCount'];
export type LoginAnswer = Schemas['LoginOut'];

/** A parameter as the catalogue holds it: a value (number, text, list) and its unit. */
export interface Parameter {
  value: unknown;
  unit?: string | null;
}

/** One page of a list: its items and the cursor of the next page. */
export interface Page<T> {
  items: T[];
  next: string | null;
}
export type InvestigationSample = Schemas['InvestigationSampleOut'];
export type Account = Schemas['AccountOut'];
export type Timeline = Schemas['Timeline'];
export type TimelinePoint = Schemas['TimelinePoint'];

// The data policy.
export type EmbargoExtension = Schemas['ExtensionOut'];
export type Restore = Schemas['RestoreOut'];
export type DoiRequest = Schemas['DoiRequestOut'];
export type PlanStep = Schemas['PlanStep'];
export type PassPlan = Schemas['PassPlanOut'];
export type PolicyPass = Schemas['PolicyPassOut'];
export type AuditEntry = Schemas['AuditOut'];
