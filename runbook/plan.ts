/**
 * The plan preflight produces: everything the later steps need to know about the world as it was before the run.
 * Rollback works from it, so it never removes what existed before (pre-existing gMSA, principals, group members,
 * endpoints are adopted, not owned).
 */
import type { DomainController } from '../backends/ports';
import type { KdsRootKey } from './kds';

export interface HostPlan {
  hostName: string;
  /** `SERVER1$` */
  computerSam: string;
  site: string;
  /** `adopt`: the endpoint already exists with this gMSA; it is not registered again and never removed. */
  endpointAction: 'register' | 'adopt';
  /** Group mode: the computer was in the group before the run (so rollback leaves it there). */
  wasGroupMember: boolean;
}

export interface ProvisionPlan {
  workflowId: string;
  mark: string;
  /** Every write and read-after-write goes to this DC. */
  pinnedDc: string;
  /** The DCs that must have the gMSA before hosts are touched (scope from the request). */
  replicationTargets: DomainController[];
  kdsRootKey: KdsRootKey;
  gmsa: {
    name: string;
    samAccountName: string;
    dnsHostName: string;
    /** `adopt`: a gMSA with this name existed before the run; it is never removed. */
    action: 'create' | 'adopt';
    objectGuid: string | null;
    principalsBefore: string[];
    /** What PrincipalsAllowedToRetrieveManagedPassword must contain. */
    wantedPrincipals: string[];
    /** What this run adds to an adopted gMSA (and removes again on rollback). */
    principalsToAdd: string[];
  };
  principalMode: 'hosts' | 'group';
  group: string | null;
  hosts: HostPlan[];
  expectedIdentity: string;
  notes: string[];
}
