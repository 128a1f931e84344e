/** An admin change made from a page (save, delete, rotate): said when done, the page's data reloaded, a failure said. */
import { useDashboard } from './context.ts';

/**
 * Returns `act(done, action, failed?)`: runs `action`; once it succeeded, notifies `done` and calls `reload`;
 * when it failed, notifies `<failed>: <message>` as an error (`failed` defaults to `<done> failed`). Resolves
 * to whether it succeeded.
 */
export function useAdminAction(reload: () => void) {
  const { notify } = useDashboard();
  return async (done: string, action: () => Promise<unknown>, failed = `${done} failed`): Promise<boolean> => {
    try {
      await action();
      notify(done);
      reload();
      return true;
    } catch (failure) {
      notify(`${failed}: ${(failure as Error).message}`, 'error');
      return false;
    }
  };
}
