import { type Deployment, destroyClients, resolveDeployment, type Target } from './deployment.ts';

/** Resolves the deployment, runs `action` with it, and always releases the SDK clients' sockets. */
export async function withDeployment(target: Target, action: (deployment: Deployment) => Promise<number>): Promise<number> {
  const deployment = await resolveDeployment(target);
  try {
    return await action(deployment);
  } finally {
    destroyClients(deployment.clients);
  }
}
