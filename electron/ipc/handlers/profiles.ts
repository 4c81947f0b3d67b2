import { profileStore } from '../../core/profiles/store.io.js';
import type { Handlers } from '../dispatcher.js';

type ProfileHandlers = Pick<Handlers, 'profiles.list' | 'profiles.load' | 'profiles.save' | 'profiles.delete' | 'profiles.remember'>;

/** Profiles of the user bootcard runs as, in `configDir` ($XDG_CONFIG_HOME/bootcard by default). */
export function profileHandlers(configDir?: string): ProfileHandlers {
  const store = profileStore(configDir);
  return {
    'profiles.list': async () => ({ profiles: await store.list(), last: await store.loadLast(), dir: store.dir }),
    'profiles.load': (request) => store.load(request.name),
    'profiles.save': (request) => store.save(request.name, request.settings),
    'profiles.delete': async (request) => {
      await store.remove(request.name);
      return { deleted: request.name };
    },
    'profiles.remember': async (request) => {
      await store.saveLast(request.settings);
      return { remembered: true };
    },
  };
}
