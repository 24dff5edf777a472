import type { SimProvider } from '../types';
import { bfl } from './bfl';
import { ideogram } from './ideogram';
import { imagen } from './imagen';
import { openai } from './openai';
import { recraft } from './recraft';
import { wavespeed } from './wavespeed';
import { xai } from './xai';

/**
 * Every simulated provider, mounted in this order; each answers only the paths of its own API. xAI
 * and Recraft share `POST /v1/images/generations` with OpenAI and claim only their own models, so
 * they come first and pass the rest on; OpenAI answers every other model on that path (unknown ones
 * with its own 400).
 */
export const PROVIDERS: readonly SimProvider[] = [bfl, wavespeed, xai, recraft, openai, imagen, ideogram];
