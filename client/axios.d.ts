// Type declarations of @slidingjwt/client/axios (hand-written).

import type { SlidingClient } from "./client.js";

/**
 * The part of an axios instance the adapter uses. Any instance from
 * axios.create(), or axios itself, fits; axios is not imported.
 */
export interface AxiosInstanceLike {
  interceptors: {
    request: { use(onFulfilled: (config: any) => any, onRejected?: (error: any) => any): number; eject(id: number): void };
    response: { use(onFulfilled: (response: any) => any, onRejected?: (error: any) => any): number; eject(id: number): void };
  };
  request(config: any): Promise<any>;
}

/**
 * Installs the client's behaviour on an axios instance, as a request and a
 * response interceptor, and returns the function that removes them:
 * requests go to the client's API only (another origin rejects with
 * ForeignOriginError before anything is sent; a path is appended to the
 * client's baseURL, or to the instance's when it is on the API's origin),
 * with the token; renewals are picked up; a 401 is retried once or ends
 * the session, as with the fetch client. A request config with
 * `background: true` (see the module augmentation below) is a background
 * request.
 */
export declare function attach(instance: AxiosInstanceLike, client: SlidingClient): () => void;

declare module "axios" {
  interface AxiosRequestConfig {
    /**
     * @slidingjwt/client: a request the user did not ask for (a poll). It
     * carries the background header, a renewal in its response is never
     * stored, and its 401 never starts a guest session.
     */
    background?: boolean;
  }
}
