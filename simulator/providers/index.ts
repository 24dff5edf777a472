import type { SimProvider } from '../types';
import { bfl } from './bfl';

/** Every simulated provider; each answers only the paths of its own API. */
export const PROVIDERS: readonly SimProvider[] = [bfl];
