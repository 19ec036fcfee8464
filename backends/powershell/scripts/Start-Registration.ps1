# Register-PSSessionConfiguration, detached (it restarts WinRM). Poll Get-SessionConfiguration for the outcome.
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
. (Join-Path $PSScriptRoot '_EndpointJob.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    Start-RunbookEndpointJob -Computer ([string]$p.host) -Action 'register' -Name ([string]$p.name) -PsscText ([string]$p.pssc)
}
