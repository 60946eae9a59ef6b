//! Running a task: its steps in order (`if`, `each`, the input rendered, the
//! action called, its output kept for the next steps), then its output.

use super::{ActionCall, ActionSession, LogLine, Run, Scaffolder, SessionFuture};
use crate::task::{EventBody, EventKind, StepState, StepStatus, Task, TaskStatus, now};
use crate::template::{Output, Step, Template};
use portal_template_expr::{RenderError, Scope};
use serde_json::{Map, Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::watch;

impl Scaffolder {
    #[tracing::instrument(skip_all, fields(task = %task.id, template = %task.spec.template_info.entity_ref))]
    pub(super) async fn run(&self, mut task: Task, run: &Arc<Run>, dry_run: bool) -> Task {
        task.status = TaskStatus::Processing;
        task.state.dry_run = dry_run;
        self.save(&mut task, run);
        let workspace = self.inner.work_dir.join(&task.id).join("workspace");
        let result = match std::fs::create_dir_all(&workspace) {
            Ok(()) => self.run_steps(&mut task, run, &workspace, dry_run).await,
            Err(e) => Err(Failure::Error(format!(
                "cannot create the task's workspace: {e}"
            ))),
        };
        if !dry_run {
            let _ = std::fs::remove_dir_all(workspace.parent().unwrap_or(&workspace));
        }
        let (status, message) = match &result {
            Ok(()) => (
                TaskStatus::Completed,
                "Run completed with status: completed".to_owned(),
            ),
            Err(Failure::Cancelled) => (TaskStatus::Cancelled, "Run cancelled".to_owned()),
            Err(Failure::Error(reason)) => (
                TaskStatus::Failed,
                format!("Run completed with status: failed ({reason})"),
            ),
        };
        task.status = status;
        if let Err(Failure::Error(reason)) = &result {
            task.state.error = Some(run.redactor.text(reason));
        }
        if let Err(Failure::Cancelled) = &result {
            task.state.error = Some("cancelled by a user".to_owned());
        }
        let kind = if status == TaskStatus::Cancelled {
            EventKind::Cancelled
        } else {
            EventKind::Completion
        };
        let completion = EventBody {
            message,
            status: Some(json!(status.name())),
            output: task.output.clone(),
            error: task
                .state
                .error
                .clone()
                .filter(|_| status == TaskStatus::Failed)
                .map(|m| json!({ "name": "Error", "message": m })),
            ..EventBody::default()
        };
        // The task's end is stored before its completion event is told: a
        // client that reads the task on hearing it finds it finished.
        task.state.last_event_id = run.last_event.load(Ordering::SeqCst) + 1;
        self.save(&mut task, run);
        let completion_id = self.event(&task.id, run, kind, completion);
        debug_assert_eq!(completion_id, task.state.last_event_id);
        if !dry_run {
            self.inner.writer.flush_soon();
        }
        task
    }

    async fn run_steps(
        &self,
        task: &mut Task,
        run: &Arc<Run>,
        workspace: &Path,
        dry_run: bool,
    ) -> Result<(), Failure> {
        let (steps, output) = Template::runnable(&task.spec.steps, &task.spec.output)
            .map_err(|e| Failure::Error(e.to_string()))?;
        let mut context = Scope::from_json(&json!({
            "parameters": task.spec.parameters,
            "secrets": run.secrets,
            "user": task.spec.user.as_ref().map(|u| json!({ "ref": u.entity_ref, "entity": u.entity })).unwrap_or(json!({})),
            "context": { "task": { "id": task.id } },
        }));
        let mut cancelled = run.cancel.subscribe();
        let mut session =
            self.inner
                .runner
                .session(workspace, run.template_dir.as_deref(), dry_run);
        // A task resumed after a restart keeps the steps it finished before
        // (`recover.rs`); a new or retried task has none.
        let mut finished_before = std::mem::take(&mut task.state.steps).into_iter();
        let mut resuming = true;
        for (index, step) in steps.iter().enumerate() {
            if *cancelled.borrow() {
                return Err(Failure::Cancelled);
            }
            if resuming {
                match finished_before.next() {
                    Some(done)
                        if done.id == step.id
                            && matches!(
                                done.status,
                                StepStatus::Completed | StepStatus::Skipped
                            ) =>
                    {
                        if let Some(output) = &done.output {
                            context.set_step_output(&step.id, output);
                        }
                        task.state.steps.push(done);
                        continue;
                    }
                    _ => resuming = false,
                }
            }
            task.state.steps.push(StepState {
                id: step.id.clone(),
                name: step.name.clone(),
                action: step.action.clone(),
                status: StepStatus::Processing,
                started_at: Some(now()),
                ended_at: None,
                input: None,
                output: None,
            });
            // Kept, so a restart can say which step was cut short: this
            // step's start, and the previous one's end.
            let changed = task.state.steps.len().saturating_sub(2);
            self.save_progress(task, run, changed);
            let place = format!("spec.steps[{index}]");
            let mut inputs = Vec::new();
            let outcome = self
                .run_step(
                    task,
                    run,
                    step,
                    &place,
                    &context,
                    workspace,
                    dry_run,
                    &mut cancelled,
                    &mut session,
                    &mut inputs,
                )
                .await;
            let state = task.state.steps.last_mut().expect("pushed above");
            state.ended_at = Some(now());
            if dry_run && !inputs.is_empty() {
                let input = if step.each.is_some() {
                    Value::Array(inputs)
                } else {
                    inputs.swap_remove(0)
                };
                state.input = Some(run.redactor.value(&input));
            }
            let status = match &outcome {
                Ok(Some(output)) => {
                    state.output = Some(run.redactor.value(output));
                    context.set_step_output(&step.id, output);
                    StepStatus::Completed
                }
                Ok(None) => StepStatus::Skipped,
                Err(Failure::Cancelled) => StepStatus::Cancelled,
                Err(Failure::Error(_)) => StepStatus::Failed,
            };
            state.status = status;
            self.event(
                &task.id,
                run,
                EventKind::Log,
                EventBody {
                    message: match &outcome {
                        Ok(Some(_)) => format!("Finished step {}", step.name),
                        Ok(None) => format!("Skipping step {}: its condition is false", step.name),
                        Err(Failure::Cancelled) => format!("Step {} was cancelled", step.name),
                        Err(Failure::Error(reason)) => {
                            format!("Step {} failed: {reason}", step.name)
                        }
                    },
                    step_id: Some(step.id.clone()),
                    status: Some(json!(status)),
                    ..EventBody::default()
                },
            );
            // Not saved here: the next step's start saves this one's end with
            // it (one write of the task per step), and the run's end saves the
            // last. A crash in between re-runs this step when the task resumes.
            outcome?;
        }
        task.output = Some(run.redactor.value(&self.render_output(&output, &context)?));
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_step(
        &self,
        task: &Task,
        run: &Arc<Run>,
        step: &Step,
        place: &str,
        context: &Scope,
        workspace: &Path,
        dry_run: bool,
        cancelled: &mut watch::Receiver<bool>,
        session: &mut Option<Box<dyn ActionSession>>,
        inputs: &mut Vec<Value>,
    ) -> Result<Option<Value>, Failure> {
        let templater = &self.inner.templater;
        if let Some(condition) = &step.condition
            && !templater.condition(condition, context, &format!("{place}.if"))?
        {
            return Ok(None);
        }
        self.event(
            &task.id,
            run,
            EventKind::Log,
            EventBody {
                message: format!("Beginning step {}", step.name),
                step_id: Some(step.id.clone()),
                status: Some(json!("processing")),
                ..EventBody::default()
            },
        );
        let items: Option<Vec<Value>> = match &step.each {
            None => None,
            Some(each) => Some(
                match templater.render_value(each, context, &format!("{place}.each"))? {
                    Some(Value::Array(items)) => items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| json!({ "key": i, "value": v }))
                        .collect(),
                    Some(Value::Object(map)) => map
                        .into_iter()
                        .map(|(k, v)| json!({ "key": k, "value": v }))
                        .collect(),
                    _ => {
                        return Err(Failure::Error(format!(
                            "{place}.each: must render to a list or an object"
                        )));
                    }
                },
            ),
        };
        // One run without `each`, else one per item, each seeing its item.
        let runs: Vec<Option<&Value>> = match &items {
            None => vec![None],
            Some(items) => items.iter().map(Some).collect(),
        };
        let mut outputs = Vec::with_capacity(runs.len());
        for item in runs {
            let scoped;
            let context = match item {
                None => context,
                Some(item) => {
                    scoped = context.with("each", item);
                    &scoped
                }
            };
            let input = templater
                .render_value(&step.input, context, &format!("{place}.input"))?
                .unwrap_or_else(|| json!({}));
            if dry_run {
                inputs.push(input.clone());
            }
            let call = ActionCall {
                action: step.action.clone(),
                input,
                task_id: task.id.clone(),
                dry_run,
                workspace: workspace.to_owned(),
                template_dir: run.template_dir.clone(),
            };
            let log: LogLine = {
                let this = self.clone();
                let task_id = task.id.clone();
                let step_id = step.id.clone();
                let run = run.clone();
                Arc::new(move |line: &str| {
                    this.event(
                        &task_id,
                        &run,
                        EventKind::Log,
                        EventBody {
                            message: line.to_owned(),
                            step_id: Some(step_id.clone()),
                            ..EventBody::default()
                        },
                    );
                })
            };
            let action: SessionFuture<'_> = match session {
                Some(session) => session.run(call, log),
                None => self.inner.runner.run(call, log),
            };
            let output = tokio::select! {
                output = action => output.map_err(Failure::Error)?,
                _ = cancelled.wait_for(|c| *c) => return Err(Failure::Cancelled),
            };
            outputs.push(output);
        }
        Ok(Some(match items {
            None => outputs.pop().unwrap_or_else(|| json!({})),
            // Backstage's shape for `each`: the outputs, one per item.
            Some(_) => Value::Array(outputs),
        }))
    }

    fn render_output(&self, output: &Output, context: &Scope) -> Result<Value, Failure> {
        let templater = &self.inner.templater;
        let holds = |condition: &Option<Value>, place: &str| -> Result<bool, RenderError> {
            match condition {
                None => Ok(true),
                Some(c) => templater.condition(c, context, place),
            }
        };
        let render = |value: &Option<Value>, place: &str| -> Result<Option<Value>, RenderError> {
            match value {
                None => Ok(None),
                Some(v) => templater.render_value(v, context, place),
            }
        };
        let mut links = Vec::new();
        for (i, link) in output.links.iter().enumerate() {
            let place = format!("spec.output.links[{i}]");
            if !holds(&link.condition, &format!("{place}.if"))? {
                continue;
            }
            let mut rendered = Map::new();
            if let Some(title) = &link.title {
                rendered.insert("title".into(), json!(title));
            }
            if let Some(icon) = &link.icon {
                rendered.insert("icon".into(), json!(icon));
            }
            if let Some(url) = render(&link.url, &format!("{place}.url"))? {
                rendered.insert("url".into(), url);
            }
            if let Some(entity_ref) = render(&link.entity_ref, &format!("{place}.entityRef"))? {
                rendered.insert("entityRef".into(), entity_ref);
            }
            links.push(Value::Object(rendered));
        }
        let mut texts = Vec::new();
        for (i, text) in output.text.iter().enumerate() {
            let place = format!("spec.output.text[{i}]");
            if !holds(&text.condition, &format!("{place}.if"))? {
                continue;
            }
            let mut rendered = Map::new();
            if let Some(title) = &text.title {
                rendered.insert("title".into(), json!(title));
            }
            if let Some(icon) = &text.icon {
                rendered.insert("icon".into(), json!(icon));
            }
            if let Some(content) = render(&text.content, &format!("{place}.content"))? {
                rendered.insert("content".into(), content);
            }
            texts.push(Value::Object(rendered));
        }
        let mut rendered = Map::new();
        for (key, value) in &output.other {
            if let Some(v) =
                templater.render_value(value, context, &format!("spec.output.{key}"))?
            {
                rendered.insert(key.clone(), v);
            }
        }
        if !links.is_empty() {
            rendered.insert("links".into(), Value::Array(links));
        }
        if !texts.is_empty() {
            rendered.insert("text".into(), Value::Array(texts));
        }
        Ok(Value::Object(rendered))
    }
}

/// Why a run stopped early.
enum Failure {
    Cancelled,
    Error(String),
}

impl From<RenderError> for Failure {
    fn from(e: RenderError) -> Failure {
        Failure::Error(e.to_string())
    }
}
