import { useFetcher } from "@remix-run/react";
import { Badge, BlockStack, Box, Button, Card, Collapsible, Divider, InlineStack, ProgressBar, Text } from "@shopify/polaris";
import { Fragment, useState } from "react";
import type { SetupGuideView, SetupStepView, ThemeEmbedView } from "../admin/home-page.server";

const STATE_BADGES: Record<SetupStepView["state"], { tone: "success" | "attention" | "warning"; label: string }> = {
  done: { tone: "success", label: "Done" },
  todo: { tone: "attention", label: "To do" },
  unknown: { tone: "warning", label: "Could not check" },
};

/** What the app is, for a merchant opening it for the first time. */
export const APP_INTRODUCTION =
  "Refersion is the affiliate platform where you run your affiliate program; this app sends each order of your store to Refersion, so the affiliate who brought the buyer gets the credit.";

/**
 * The four steps to a working setup, each with its live state and the way to complete it. Once
 * every step is done it folds to one line; dismissed, it stays hidden for the shop.
 */
export function SetupGuide({
  setup,
  embed,
  settingsUrl,
  canTestConnection,
}: {
  setup: SetupGuideView;
  embed: ThemeEmbedView;
  settingsUrl: string;
  canTestConnection: boolean;
}) {
  const [open, setOpen] = useState(!setup.complete);
  const dismiss = useFetcher();
  if (setup.dismissed || dismiss.state !== "idle") return null;
  const total = setup.steps.length;

  return (
    <Card>
      <div data-testid="setup-guide" data-complete={setup.complete ? "yes" : "no"}>
        <BlockStack gap="400">
          <BlockStack gap="200">
            <InlineStack align="space-between" blockAlign="center" gap="200">
              <Text as="h2" variant="headingMd">
                {setup.complete ? "Setup complete" : "Setup guide"}
              </Text>
              <InlineStack gap="200" blockAlign="center">
                <Text as="span" tone="subdued">
                  {setup.completed} of {total} done
                </Text>
                <Button variant="tertiary" onClick={() => dismiss.submit({ intent: "dismiss_setup_guide" }, { method: "post" })} accessibilityLabel="Dismiss the setup guide">
                  Dismiss
                </Button>
              </InlineStack>
            </InlineStack>
            <Text as="p">{APP_INTRODUCTION}</Text>
            <ProgressBar progress={(setup.completed / total) * 100} size="small" tone="primary" />
            {setup.complete ? (
              <Box>
                <Button variant="plain" onClick={() => setOpen((value) => !value)} ariaExpanded={open} ariaControls="setup-steps" disclosure={open ? "up" : "down"}>
                  {open ? "Hide steps" : "Show steps"}
                </Button>
              </Box>
            ) : null}
          </BlockStack>
          <Collapsible id="setup-steps" open={open} transition={false}>
            <BlockStack gap="400">
              {setup.steps.map((step, index) => (
                <Fragment key={step.id}>
                  {index > 0 ? <Divider /> : null}
                  <div data-testid={`step-${step.id}`} data-state={step.state}>
                    <BlockStack gap="200">
                      <InlineStack align="space-between" blockAlign="center" gap="200">
                        <Text as="h3" variant="headingSm">
                          {index + 1}. {step.title}
                        </Text>
                        <Badge tone={STATE_BADGES[step.state].tone}>{STATE_BADGES[step.state].label}</Badge>
                      </InlineStack>
                      <Text as="p" tone="subdued">
                        {step.description}
                      </Text>
                      <StepAction step={step} embed={embed} settingsUrl={settingsUrl} canTestConnection={canTestConnection} />
                    </BlockStack>
                  </div>
                </Fragment>
              ))}
            </BlockStack>
          </Collapsible>
        </BlockStack>
      </div>
    </Card>
  );
}

function StepAction({
  step,
  embed,
  settingsUrl,
  canTestConnection,
}: {
  step: SetupStepView;
  embed: ThemeEmbedView;
  settingsUrl: string;
  canTestConnection: boolean;
}) {
  const test = useFetcher();
  if (step.id === "keys") {
    return (
      <Box>
        <Button url={settingsUrl} variant={step.state === "done" ? "plain" : "primary"}>
          {step.state === "done" ? "Change keys" : "Enter keys"}
        </Button>
      </Box>
    );
  }
  if (step.id === "connection" && step.state !== "done" && canTestConnection) {
    return (
      <Box>
        <Button onClick={() => test.submit({ intent: "test_connection" }, { method: "post" })} loading={test.state !== "idle"}>
          Test connection
        </Button>
      </Box>
    );
  }
  if (step.id === "embed" && step.state !== "done") {
    // The theme editor is part of Shopify's admin, outside the app's frame.
    return (
      <Box>
        <Button url={embed.editorUrl} target="_top" variant="primary">
          Turn on in theme editor
        </Button>
      </Box>
    );
  }
  return null;
}
