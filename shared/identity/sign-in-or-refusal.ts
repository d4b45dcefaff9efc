import { SignInError, type SignedInUser, type UserSignIn } from './user-sign-in.js';

/** Why a request was refused before anything was read: each route renders it in its own body. */
export interface SignInRefusal {
  status: number;
  error: string;
  headers: Record<string, string>;
}

/** The signed-in user, or the refusal: 401 with a challenge, 503 while sign-in is unconfigured or its keys unavailable. */
export async function signInOrRefusal(userSignIn: UserSignIn | undefined, headers: Record<string, string | undefined>): Promise<SignedInUser | SignInRefusal> {
  if (!userSignIn) return { status: 503, error: 'user sign-in is not configured: set ENTRA_TENANT_ID and ENTRA_AUDIENCE, or TRUST_EASY_AUTH', headers: {} };
  try {
    return await userSignIn(headers);
  } catch (err) {
    if (!(err instanceof SignInError)) throw err;
    return { status: err.status, error: err.message, headers: err.headers };
  }
}
