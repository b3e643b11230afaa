import { useEffect, useState } from "react";

interface AppBridgeGlobal {
  toast?: { show(message: string, options?: { isError?: boolean; duration?: number }): void };
}

/**
 * Shows `message` as an App Bridge toast when App Bridge is loaded, and returns whether the page
 * should show it inline instead (App Bridge missing or failing). `trigger` changes for every new
 * result, so saving twice shows the message twice.
 */
export function useToastOrInline(message: string | null, trigger: unknown, isError = false): boolean {
  const [inline, setInline] = useState(false);
  useEffect(() => {
    if (!message) {
      setInline(false);
      return;
    }
    const appBridge = (window as unknown as { shopify?: AppBridgeGlobal }).shopify;
    try {
      if (appBridge?.toast) {
        appBridge.toast.show(message, { isError });
        setInline(false);
        return;
      }
    } catch {
      // Fall through to the inline message.
    }
    setInline(true);
  }, [message, trigger, isError]);
  return inline;
}
