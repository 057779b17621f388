// The live page's script (bundled by live-bundle.ts into assets/sbm-live.js). Gradients for training: tfjs-core
// registers none by itself.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { mountLivePage } from './page.js';

const root = document.getElementById('sbm-live');
if (root) {
  mountLivePage(root).catch((error: unknown) => {
    console.error(error);
    root.textContent = `The live page failed to start: ${error instanceof Error ? error.message : String(error)}`;
  });
}
