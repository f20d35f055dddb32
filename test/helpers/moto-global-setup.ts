/**
 * Vitest globalSetup of the chromium project: starts one moto_server for the browser S3
 * tests (a page cannot spawn it), creates their bucket with CORS rules that let the test
 * page's origin call it and read `ETag` and eddy's metadata headers, and hands the
 * endpoint to the tests through `inject('s3Endpoint')`. Where moto_server is missing,
 * `inject('s3Missing')` says why, and the tests skip with that reason.
 */
import type { TestProject } from 'vitest/node';
import { createBucket, motoMissing, startMoto, type Moto } from './moto.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
    s3Missing: string;
  }
}

/** The bucket the browser tests write to. */
export const BROWSER_BUCKET = 'browser';

/** CORS rules that let a test page call the bucket and read `ETag` and eddy's metadata headers. */
export const BROWSER_CORS = `<CORSConfiguration><CORSRule>
<AllowedOrigin>*</AllowedOrigin>
<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod><AllowedMethod>DELETE</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>
<AllowedHeader>*</AllowedHeader>
<ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-meta-eddy-size</ExposeHeader><ExposeHeader>x-amz-meta-eddy-write</ExposeHeader>
<MaxAgeSeconds>600</MaxAgeSeconds>
</CORSRule></CORSConfiguration>`;

/**
 * moto 5.2.1 answers a CORS preflight (an unsigned OPTIONS) of an *existing* object with
 * 403, as if it were an anonymous read of a private object; AWS S3 judges preflights by
 * the CORS rules alone. A policy that permits the bucket's object actions makes moto
 * answer such preflights like S3 does. Test-only: a real bucket needs no such policy.
 */
export const browserPolicy = (bucket: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }],
});

let moto: Moto | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missing = motoMissing();
  project.provide('s3Missing', missing ?? '');
  project.provide('s3Endpoint', '');
  if (missing === undefined) {
    moto = await startMoto();
    await createBucket(moto.endpoint, BROWSER_BUCKET, BROWSER_CORS, browserPolicy(BROWSER_BUCKET));
    project.provide('s3Endpoint', moto.endpoint);
  }
  return async () => {
    await moto?.stop();
  };
}
