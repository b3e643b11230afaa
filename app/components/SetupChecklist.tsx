import { Badge, BlockStack, Box, Button, Card, Divider, InlineStack, ProgressBar, Text } from "@shopify/polaris";
import { Fragment } from "react";
import type { SetupStepView, ThemeEmbedView } from "../admin/home-page.server";

const STATE_BADGES: Record<SetupStepView["state"], { tone: "success" | "attention" | "warning"; label: string }> = {
  done: { tone: "success", label: "Done" },
  todo: { tone: "attention", label: "To do" },
  unknown: { tone: "warning", label: "Could not check" },
};

/** The four steps to a working setup, each with its live state and the way to complete it. */
export function SetupChecklist({
  steps,
  completed,
  embed,
  settingsUrl,
}: {
  steps: SetupStepView[];
  completed: number;
  embed: ThemeEmbedView;
  settingsUrl: string;
}) {
  return (
    <Card>
      <BlockStack gap="400">
        <BlockStack gap="200">
          <InlineStack align="space-between" blockAlign="center">
            <Text as="h2" variant="headingMd">
              Setup
            </Text>
            <Text as="span" tone="subdued">
              {completed} of {steps.length} done
            </Text>
          </InlineStack>
          <ProgressBar progress={(completed / steps.length) * 100} size="small" tone="primary" />
        </BlockStack>
        {steps.map((step, index) => (
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
                <StepAction step={step} embed={embed} settingsUrl={settingsUrl} />
              </BlockStack>
            </div>
          </Fragment>
        ))}
      </BlockStack>
    </Card>
  );
}

function StepAction({ step, embed, settingsUrl }: { step: SetupStepView; embed: ThemeEmbedView; settingsUrl: string }) {
  if (step.id === "keys") {
    return (
      <Box>
        <Button url={settingsUrl} variant={step.state === "done" ? "plain" : "primary"}>
          {step.state === "done" ? "Change keys" : "Enter keys"}
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
