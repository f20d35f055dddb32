/**
 * Multipart upload of one large object: CreateMultipartUpload, the parts in parallel
 * (at most `concurrency` in flight, each a view into the caller's bytes — nothing is
 * copied), CompleteMultipartUpload. A failed upload is aborted so that its parts do not
 * linger (and cost) on the server. Each part request is retried by the client.
 */
import { type S3Client, unescapeXml } from './client.ts';

/** How large objects are cut. */
export interface MultipartSettings {
  /** Bytes per part (S3: at least 5 MiB except the last; at most 10,000 parts). */
  readonly partSize: number;
  /** Parts in flight at once. */
  readonly concurrency: number;
}

/**
 * Uploads `data` to `key` in parts; `headers` (metadata) go with the create. `what`
 * names the operation in errors.
 */
export async function uploadMultipart(
  client: S3Client,
  key: string,
  data: Uint8Array,
  headers: Record<string, string>,
  settings: MultipartSettings,
  what: string,
): Promise<void> {
  // S3 allows 10,000 parts: grow the part size for objects that would need more.
  const partSize = Math.max(settings.partSize, Math.ceil(data.byteLength / 10_000));
  const created = await client.send('POST', key, `${what} (create multipart upload)`, { query: { uploads: '' }, headers, readBody: true });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(new TextDecoder().decode(created.bytes))?.[1];
  if (uploadId === undefined) throw client.error('STORAGE_FAILURE', `${what}: the server's answer to CreateMultipartUpload has no UploadId`);
  const id = unescapeXml(uploadId);
  const count = Math.max(1, Math.ceil(data.byteLength / partSize));
  const etags = new Array<string>(count);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < count) {
      const n = next++;
      const body = data.subarray(n * partSize, Math.min(data.byteLength, (n + 1) * partSize));
      const response = await client.send('PUT', key, `${what} (part ${n + 1} of ${count})`, { query: { partNumber: String(n + 1), uploadId: id }, body });
      const etag = response.headers.get('ETag');
      if (etag === null) {
        throw client.error(
          'STORAGE_FAILURE',
          `${what}: part ${n + 1} was stored but the server sent no ETag (a browser needs the bucket's CORS to expose ETag)`,
        );
      }
      etags[n] = etag;
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(settings.concurrency, count) }, () =>
        worker().catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      ),
    );
    const xml = `<CompleteMultipartUpload>${etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    await client.send('POST', key, `${what} (complete multipart upload)`, {
      query: { uploadId: id },
      headers: { 'content-type': 'application/xml' },
      body: xml,
      readBody: true,
      // 404 NoSuchUpload after a retry: an earlier attempt completed it (the caller checks the object's size).
      accept: [404],
      // S3 may answer 200 and still report an error in the body: retry then.
      verify: (_, bytes) => {
        const text = new TextDecoder().decode(bytes);
        return text.includes('<Error>') ? `CompleteMultipartUpload answered 200 with an error body` : undefined;
      },
    });
  } catch (error) {
    await client.send('DELETE', key, `${what} (abort multipart upload)`, { query: { uploadId: id }, accept: [404] }).catch(() => {});
    throw error;
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
