import { useFetcher } from "@remix-run/react";
import {
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  InlineStack,
  List,
  Text,
  TextField,
} from "@shopify/polaris";
import { useState } from "react";
import type { ConversionWebhooksView } from "../admin/conversions-view.server";
import { useAppHref } from "./embedded-links";

type SaveAnswer = {
  ok: boolean;
  errors: { signingSecret?: string; graceHours?: string };
  savedAt: number | null;
};

/**
 * Settings: connect Refersion's conversion webhooks. The URL to paste into Refersion, with a
 * copy button; the signing secret (write-only: only whether it is set and its last 4 come back);
 * the grace period; when the last signed webhook arrived; and how to set it up and test it.
 */
export function ConversionWebhooksCard({
  view,
}: {
  view: ConversionWebhooksView;
}) {
  const href = useAppHref();
  const fetcher = useFetcher<SaveAnswer>();
  const [secret, setSecret] = useState("");
  const [graceHours, setGraceHours] = useState(String(view.graceHours));
  const [copied, setCopied] = useState(false);
  const saving = fetcher.state !== "idle";
  const answer = fetcher.data;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(view.url);
      setCopied(true);
    } catch {
      // No clipboard (permissions): the URL is selected for a manual copy.
      const url = document.getElementById("conversion-webhook-url");
      if (url) window.getSelection()?.selectAllChildren(url);
    }
  };

  const save = () => {
    const form = new FormData();
    form.set("signingSecret", secret);
    form.set("graceHours", graceHours);
    fetcher.submit(form, {
      method: "post",
      action: href("/app/conversion-webhooks"),
    });
    setSecret("");
  };

  return (
    <Card>
      <BlockStack gap="400">
        <BlockStack gap="100">
          <Text as="h2" variant="headingMd">
            Conversion webhooks
          </Text>
          <Text as="p" tone="subdued">
            Refersion tells the app which orders it credited to an affiliate,
            approved or denied. The delivery log and the home page then show
            each order&apos;s outcome and your attribution rate.
          </Text>
        </BlockStack>
        {/* The URL as wrapping monospaced text, so a phone shows all of it (a text field cuts a
            long URL off), and Copy below it. */}
        <BlockStack gap="100" inlineAlign="start">
          <Text as="p">
            Webhook URL
          </Text>
          <Box width="100%" padding="200" background="bg-surface-secondary" borderRadius="200">
            <Text as="p" breakWord>
              <code id="conversion-webhook-url" data-testid="conversion-webhook-url">
                {view.url}
              </code>
            </Text>
          </Box>
          <Button onClick={copy} accessibilityLabel={copied ? "Copied" : "Copy webhook URL"}>
            {copied ? "Copied" : "Copy"}
          </Button>
        </BlockStack>
        <TextField
          label="Signing secret"
          type="password"
          value={secret}
          onChange={setSecret}
          autoComplete="off"
          error={answer?.errors.signingSecret}
          helpText={
            view.secretSet ? (
              <span data-testid="signing-secret-status">
                Set, ending in {view.secretLast4}
              </span>
            ) : (
              "Not set: Refersion's webhooks are refused until it is saved."
            )
          }
          placeholder={
            view.secretSet
              ? "Leave empty to keep the saved secret"
              : "Paste the signing secret from Refersion"
          }
        />
        <TextField
          label="Grace period (hours)"
          type="number"
          min={1}
          value={graceHours}
          onChange={setGraceHours}
          autoComplete="off"
          error={answer?.errors.graceHours}
          helpText="After an order reaches Refersion, how long to wait for a conversion before showing it as “No affiliate click”."
        />
        <InlineStack align="space-between" blockAlign="center">
          <Text as="p" tone="subdued">
            <span data-testid="conversions-last-received">
              Last received: {view.lastReceived ?? "never"}
            </span>
          </Text>
          <Button variant="primary" onClick={save} loading={saving}>
            {view.secretSet ? "Update conversion webhooks" : "Connect conversion webhooks"}
          </Button>
        </InlineStack>
        {answer?.ok ? (
          <Banner tone="success" title="Conversion webhooks saved" />
        ) : null}
        <BlockStack gap="200">
          <Text as="h3" variant="headingSm">
            How to connect
          </Text>
          <List type="number">
            <List.Item>
              In Refersion, open Account &gt; Settings &gt; Webhooks.
            </List.Item>
            <List.Item>
              Add a webhook with the URL above for New Conversion, Conversion
              Approved and Conversion Denied.
            </List.Item>
            <List.Item>
              Copy Refersion&apos;s webhook signing secret into the field above
              and save.
            </List.Item>
            <List.Item>
              Send a test: use Refersion&apos;s test button for the webhook, or
              place a test order through an affiliate link. &quot;Last
              received&quot; changes once a signed webhook arrives.
            </List.Item>
          </List>
        </BlockStack>
      </BlockStack>
    </Card>
  );
}
