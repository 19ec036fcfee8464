/** The server from jest's global setup is up, reachable through the env it exported, and ready for the runbooks. */
import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { SEARCH_ATTRIBUTES } from '../../runbook/search-attributes';
import { ensureSearchAttributes } from '../../temporal/search-attributes';

describe('global Temporal server', () => {
  let connection: Connection;
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';

  beforeAll(async () => {
    expect(process.env.TEMPORAL_ADDRESS).toBeTruthy();
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
  });

  afterAll(async () => {
    await connection?.close();
  });

  it('answers getSystemInfo', async () => {
    const info = await connection.workflowService.getSystemInfo({});
    expect(info.serverVersion).toBeTruthy();
  });

  it('has the runbook search attributes registered with their types', async () => {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const keyword = encodeSearchAttributeIndexedValueType('KEYWORD');
    for (const name of ['TicketKey', 'GmsaName', 'RunbookStep', 'RunbookState', 'DriftStatus']) {
      expect(customAttributes?.[name]).toBe(keyword);
    }
    expect(customAttributes?.LastVerifiedAt).toBe(encodeSearchAttributeIndexedValueType('DATETIME'));
    expect(SEARCH_ATTRIBUTES.map((key) => key.name).sort()).toEqual([
      'DriftStatus',
      'GmsaName',
      'LastVerifiedAt',
      'RunbookState',
      'RunbookStep',
      'TicketKey',
    ]);
  });

  it('ensureSearchAttributes is idempotent', async () => {
    expect(await ensureSearchAttributes(connection, namespace)).toEqual([]);
    expect(await ensureSearchAttributes(connection, namespace)).toEqual([]);
  });
});
