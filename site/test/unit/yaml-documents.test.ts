import { describe, expect, it } from 'vitest';
import { documentAt } from '../../lib/editor/yaml-documents.ts';

const TEXT = [
  '# The Deployment.', // 1
  'apiVersion: apps/v1', // 2
  'kind: Deployment', // 3
  'metadata:', // 4
  '  name: nginx # inline comments stay', // 5
  '---', // 6
  '', // 7
  '# The Service.', // 8
  'apiVersion: v1', // 9
  'kind: Service', // 10
  'metadata:', // 11
  '  name: web', // 12
  '', // 13
].join('\n');

describe('documentAt', () => {
  it('returns the document holding the line, without comment lines and blank edges', () => {
    expect(documentAt(TEXT, 2)).toBe('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx # inline comments stay\n');
    expect(documentAt(TEXT, 9)).toBe('apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n');
  });
  it('handles a leading ---, CRLF line ends and a single document', () => {
    expect(documentAt('---\r\napiVersion: v1\r\nkind: Namespace\r\n', 2)).toBe('apiVersion: v1\nkind: Namespace\n');
    expect(documentAt('kind: A\n', 1)).toBe('kind: A\n');
    expect(documentAt('# only a comment\n', 1)).toBe('');
  });
});
