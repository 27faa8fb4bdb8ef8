/// <reference lib="dom" />
/**
 * A machine's statechart as SVG, drawn by Preact from the layout of
 * lib/statechart_layout.ts (ELK, computed in the page: no CDN, no markup
 * from strings; every name is text that Preact escapes). The active states
 * (from the state value) carry the class `active` and `aria-current`.
 *
 * @module
 */

import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { layoutMachine, type MachineLayout } from "../../lib/statechart_layout.ts";
import { activePaths, type StateNodeJson } from "../../lib/statechart_model.ts";

/** Props of {@link StatechartSvg}. */
export interface StatechartSvgProps {
  /** The layout. */
  layout: MachineLayout;
  /** The current state value (the active states are highlighted). */
  active?: unknown;
}

const points = (ps: { x: number; y: number }[]) => ps.map((p) => `${p.x},${p.y}`).join(" ");

/** The SVG of a laid-out machine, the active states highlighted. */
export function StatechartSvg({ layout, active }: StatechartSvgProps): JSX.Element {
  const on = activePaths(active);
  const marker = `arrow-${layout.machine.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const pad = 4;
  return (
    <svg
      class="statechart"
      role="group"
      aria-label={`Statechart of ${layout.machine}`}
      width={layout.width + pad * 2}
      height={layout.height + pad * 2}
      viewBox={`${-pad} ${-pad} ${layout.width + pad * 2} ${layout.height + pad * 2}`}
    >
      <defs>
        <marker
          id={marker}
          viewBox="0 0 10 10"
          refX="10"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
        </marker>
      </defs>
      {layout.states.map((s) => {
        const current = s.path !== "" && on.has(s.path);
        const kind = [
          "state",
          s.container ? "container" : "",
          s.type === "parallel" ? "parallel" : "",
          s.type === "final" ? "final" : "",
          s.path === "" ? "machine" : "",
          current ? "active" : "",
        ].filter(Boolean).join(" ");
        const name = s.path === "" ? layout.machine : s.path;
        return (
          <g
            key={`s:${s.path}`}
            class={kind}
            role="img"
            aria-label={`${s.path === "" ? "machine" : "state"} ${name}${
              current ? " (current)" : ""
            }`}
            aria-current={current ? "true" : undefined}
            data-path={s.path}
          >
            <rect x={s.x} y={s.y} width={s.width} height={s.height} rx={s.container ? 10 : 8} />
            {s.type === "final" && (
              <rect
                class="inner"
                x={s.x + 3}
                y={s.y + 3}
                width={s.width - 6}
                height={s.height - 6}
                rx={6}
              />
            )}
            <text
              x={s.container ? s.x + 10 : s.x + s.width / 2}
              y={s.container ? s.y + 20 : s.y + s.height / 2 + 4.5}
              text-anchor={s.container ? "start" : "middle"}
            >
              {s.type === "parallel" ? `${s.key} (parallel)` : s.key}
            </text>
          </g>
        );
      })}
      <g class="edges" aria-hidden="true">
        {layout.initials.map((d) => (
          <circle key={`i:${d.path}`} class="initial" cx={d.x} cy={d.y} r={d.r / 1.5} />
        ))}
        {layout.edges.map((e) => (
          <g key={e.id} class={e.initial ? "edge initial" : "edge"}>
            <polyline points={points(e.points)} marker-end={`url(#${marker})`} />
            {e.labelBox && (
              <text>
                {e.lines.map((line, i) => (
                  <tspan key={i} x={e.labelBox!.x + 3} y={e.labelBox!.y + 11 + i * 14}>
                    {line}
                  </tspan>
                ))}
              </text>
            )}
          </g>
        ))}
      </g>
    </svg>
  );
}

const layouts = new WeakMap<StateNodeJson, Promise<MachineLayout>>();

/** The layout of a definition, computed once per definition. */
export function cachedLayout(machine: StateNodeJson): Promise<MachineLayout> {
  let p = layouts.get(machine);
  if (!p) {
    p = layoutMachine(machine);
    layouts.set(machine, p);
  }
  return p;
}

/** Props of {@link StatechartDiagram}. */
export interface StatechartDiagramProps {
  /** The machine's definition (from `GET /admin/machines`). */
  machine: StateNodeJson;
  /** The current state value. */
  active?: unknown;
}

/** A machine's statechart: laid out once, then redrawn as the state changes. */
export function StatechartDiagram({ machine, active }: StatechartDiagramProps): JSX.Element {
  const [layout, setLayout] = useState<MachineLayout | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setLayout(null);
    cachedLayout(machine).then(
      (l) => live && setLayout(l),
      (e) => live && setFailed(String((e as Error).message ?? e)),
    );
    return () => {
      live = false;
    };
  }, [machine]);
  if (failed) return <p class="error">The diagram could not be drawn: {failed}</p>;
  if (!layout) return <p class="muted">Drawing the statechart of {machine.key}…</p>;
  return (
    <div
      class="diagram-scroll"
      tabIndex={0}
      aria-label={`Statechart of ${machine.key}, scrollable`}
    >
      <StatechartSvg layout={layout} active={active} />
    </div>
  );
}
